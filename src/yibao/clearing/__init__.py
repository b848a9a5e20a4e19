"""Cross-region clearing (异地清算): monthly statements between pooling regions and their settlement."""
