/** Where a harness repository keeps its configuration; apart from the schema, so naming it loads nothing. */
export const CONFIG_PATH = ".github/selfharness.yml";
