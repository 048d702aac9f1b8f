-- Generated from storemon_tui/db/models.py by `python -m storemon_tui.db.sqlite_ddl`; do not edit.

CREATE TABLE IF NOT EXISTS business_hours (
	id INTEGER NOT NULL,
	store_key INTEGER NOT NULL,
	day_of_week SMALLINT NOT NULL,
	start_us BIGINT NOT NULL,
	end_us BIGINT NOT NULL,
	PRIMARY KEY (id)
);

CREATE INDEX IF NOT EXISTS ix_business_hours_store ON business_hours (store_key, day_of_week);

CREATE TABLE IF NOT EXISTS meta (
	"key" VARCHAR(64) NOT NULL,
	value TEXT NOT NULL,
	PRIMARY KEY ("key")
);

CREATE TABLE IF NOT EXISTS poll (
	store_key INTEGER NOT NULL,
	ts_us BIGINT NOT NULL,
	active SMALLINT NOT NULL,
	PRIMARY KEY (store_key, ts_us)
)
 WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS poll_recent (
	store_key INTEGER NOT NULL,
	ts_us BIGINT NOT NULL,
	active SMALLINT NOT NULL,
	PRIMARY KEY (store_key, ts_us)
)
 WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS report (
	id VARCHAR(32) NOT NULL,
	created_at DATETIME NOT NULL,
	started_at DATETIME,
	finished_at DATETIME,
	as_of_us BIGINT,
	status VARCHAR(16) NOT NULL,
	progress FLOAT NOT NULL,
	error TEXT,
	row_count INTEGER,
	file_path TEXT,
	data_version BIGINT NOT NULL,
	owner VARCHAR(255),
	PRIMARY KEY (id)
);

CREATE INDEX IF NOT EXISTS ix_report_status ON report (status);

CREATE TABLE IF NOT EXISTS store (
	store_key INTEGER NOT NULL,
	store_id TEXT NOT NULL,
	PRIMARY KEY (store_key),
	UNIQUE (store_id)
);

CREATE TABLE IF NOT EXISTS store_timezone (
	store_key INTEGER NOT NULL,
	timezone_str TEXT NOT NULL,
	PRIMARY KEY (store_key)
);
