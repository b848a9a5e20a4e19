"""Catalogue (医保目录) per pooling region: model (pure), loader (files), store (SQL), service."""
