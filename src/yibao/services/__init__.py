"""Online service desk (网上服务大厅): service catalogue and policy Q&A (边问边办)."""
