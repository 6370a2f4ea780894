// Installed package versions (provenance, the backend's record, the tfjs version lib/fast was written against).

/** The installed version of an npm package, from its package.json; throws when it is not installed. */
export function packageVersion(pkg: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a JSON file found by module resolution
  return (require(`${pkg}/package.json`) as { version: string }).version;
}
