export interface DatabaseConfig {
  /**
   * A PostgreSQL connection string. When unset, `process.env.DATABASE_URL` is used; when that is
   * unset too, Kokyaku starts an embedded PostgreSQL (see `embedded`).
   */
  url?: string;
  /** Run pending migrations on start-up (default true). */
  migrate: boolean;
  /** Connection pool size (default 10). */
  poolSize: number;
  /**
   * Connection strings of read replicas (PostgreSQL hot standbys of `url`). Default:
   * `process.env.DATABASE_REPLICA_URLS`, comma-separated. Contexts made with `reads: 'replica'`
   * (the GraphQL server's queries) read from them; see docs/scaling.md.
   */
  readReplicas: string[];
  /** How long a read waits for a replica to replay its actor's last write before it reads the primary (default 500 ms). */
  replicaWaitMs: number;
  embedded: EmbeddedDatabaseConfig;
  /** Log every SQL statement through this function (tests use it to count statements). */
  onQuery?: (sql: string) => void;
}

export interface EmbeddedDatabaseConfig {
  /**
   * Where the embedded cluster keeps its files. Default: `$KOKYAKU_DATA_DIR`, else
   * `.kokyaku/postgres` under the current working directory.
   */
  dataDir: string;
  /** Database name inside the embedded cluster (default `kokyaku`). */
  databaseName: string;
  /** TCP port; 0 (the default) picks a free one. */
  port: number;
  /** Delete the data directory when Kokyaku stops (default false). */
  ephemeral: boolean;
  /** PostgreSQL settings for the embedded server, e.g. `{ shared_buffers: '512MB' }`. */
  settings: Record<string, string | number>;
}
