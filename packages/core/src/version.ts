import packageJson from '../package.json' with { type: 'json' };

/** The version of @kokyaku/core, which plugins' compatibility ranges are checked against. */
export const KOKYAKU_VERSION: string = packageJson.version;
