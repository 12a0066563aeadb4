"""The store's disk: SQLite connections and transactions, and files written durably.

    database = Database(path, schema)            # WAL; synchronous=FULL unless durable=False
    with database.write() as db:                 # BEGIN IMMEDIATE ... COMMIT
        db.execute("INSERT ...")
    rows = database.read("SELECT ...", value)
    write_durably(directory, name, data)         # on disk (file and directories) when it returns

Every connection belongs to one thread (`threading.local`), in autocommit mode: every
transaction is explicit.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

LOCK_WAIT_SECONDS = 60


class Database:
    """An SQLite database shared by threads and processes.

    `durable=False` commits without an fsync per transaction (synchronous=NORMAL): a
    commit survives the process being killed, not a power loss."""

    def __init__(self, path: Path, schema: str, *, durable: bool = True) -> None:
        self.path = path
        self.durable = durable
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self.connection().executescript(schema)

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(
                self.path, timeout=LOCK_WAIT_SECONDS, isolation_level=None, check_same_thread=False
            )
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={'FULL' if self.durable else 'NORMAL'}")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute(f"PRAGMA busy_timeout={LOCK_WAIT_SECONDS * 1000}")
            self._local.db = db
            with self._lock:
                self._connections.append(db)
        return db

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A transaction holding the write lock from its start (BEGIN IMMEDIATE), committed
        when the block ends, rolled back if it raises."""
        db = self.connection()
        begin_immediate(db)
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def read(self, sql: str, *params: object) -> list[sqlite3.Row]:
        return self.connection().execute(sql, params).fetchall()

    def close(self) -> None:
        """Close every connection opened (in any thread)."""
        with self._lock:
            connections, self._connections = self._connections, []
        for db in connections:
            with suppress(sqlite3.Error):
                db.close()
        self._local = threading.local()


def begin_immediate(db: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, waiting for the write lock in steps of at most 5 ms.

    SQLite's own busy handler backs off to sleeps of 50-100 ms, so an upload that meets a
    worker's commit could wait a quarter of a second for a lock held for a millisecond.
    Transactions here are short: retrying often costs little and keeps accepting fast."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    pause = 0.0002
    db.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                db.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.005)
    finally:
        db.execute(f"PRAGMA busy_timeout={LOCK_WAIT_SECONDS * 1000}")


def write_durably(directory: Path, name: str, data: bytes) -> None:
    """`directory/name` holds `data` on disk, or does not exist: written to a temporary file,
    fsynced, renamed, and both directories fsynced (the new entries are on disk too)."""
    directory.mkdir()
    temporary = directory / f".{name}.tmp"
    with open(temporary, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, directory / name)
    _fsync_directory(directory)
    _fsync_directory(directory.parent)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
