import GRDB

/// The store's tables, created and migrated in place by GRDB's migrator: a database made by an
/// older voltwatch gets the migrations it lacks, in order, in one transaction each.
///
/// Rows are keyed by what queries ask for (stream, then time) in `WITHOUT ROWID` tables, so a
/// range query reads neighbouring pages and a flush appends at the end of each stream's range:
/// nothing old is rewritten, which is what an SD card wants.
enum HistorySchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: aggregates, episodes, context, streams") { db in
            for table in ["seconds", "minutes"] {
                try db.execute(sql: """
                    CREATE TABLE \(table) (
                        stream TEXT NOT NULL, t INTEGER NOT NULL,
                        min REAL NOT NULL, max REAL NOT NULL, sum REAL NOT NULL,
                        count INTEGER NOT NULL, anomalies INTEGER NOT NULL,
                        PRIMARY KEY (stream, t)) WITHOUT ROWID
                    """)
            }
            try db.execute(sql: """
                CREATE TABLE episodes (
                    stream TEXT NOT NULL, id INTEGER NOT NULL,
                    start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL,
                    peak_score REAL NOT NULL, peak_value REAL, severity TEXT NOT NULL,
                    kinds TEXT NOT NULL, reasons TEXT NOT NULL, samples INTEGER NOT NULL, open INTEGER NOT NULL,
                    PRIMARY KEY (stream, id))
                """)
            try db.execute(sql: "CREATE INDEX episodes_by_start ON episodes (start_ms)")
            try db.execute(sql: """
                CREATE TABLE episode_samples (
                    stream TEXT NOT NULL, episode INTEGER NOT NULL, t INTEGER NOT NULL,
                    value REAL NOT NULL, score REAL NOT NULL, anomaly INTEGER NOT NULL,
                    PRIMARY KEY (stream, episode, t)) WITHOUT ROWID
                """)
            try db.execute(sql: """
                CREATE TABLE streams (
                    stream TEXT PRIMARY KEY NOT NULL, name TEXT, unit TEXT NOT NULL,
                    first_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL)
                """)
        }
        return migrator
    }
}
