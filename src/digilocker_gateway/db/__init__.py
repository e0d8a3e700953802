"""Database: the SQLAlchemy base, engine and session factory (SQLite by default, PostgreSQL in
production), and migrations run through Alembic."""
