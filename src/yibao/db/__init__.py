"""Database (数据库): one real PostgreSQL, embedded via pgserver or given by YIBAO_DATABASE_URL."""
