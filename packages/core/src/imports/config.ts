export interface ImportsConfig {
  /**
   * The folder on the server that imports through the API may read from (null: the API imports
   * nothing; the CLI and core take any path they are given). `KOKYAKU_IMPORT_DIR`.
   */
  directory: string | null;
  /**
   * The share of time an import may keep the database busy (0 to 1, default 1): below 1, it rests
   * between batches (`ImportOptions.share`). `KOKYAKU_IMPORT_SHARE`. 0.5 suits a database many
   * shops share (docs/scaling.md).
   */
  share: number;
}
