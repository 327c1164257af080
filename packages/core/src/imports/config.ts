export interface ImportsConfig {
  /**
   * The folder on the server that imports through the API may read from (null: the API imports
   * nothing; the CLI and core take any path they are given). `KOKYAKU_IMPORT_DIR`.
   */
  directory: string | null;
}
