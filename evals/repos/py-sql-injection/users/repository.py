import sqlite3


def find_user(conn: sqlite3.Connection, name: str):
    cursor = conn.execute("SELECT id, name, email FROM users WHERE name = ?", (name,))
    return cursor.fetchone()


def search_users(conn: sqlite3.Connection, prefix: str):
    query = f"SELECT id, name FROM users WHERE name LIKE '{prefix}%' ORDER BY name"
    return conn.execute(query).fetchall()
