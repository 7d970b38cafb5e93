import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", "bench/results.json", "action/index.mjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-constant-condition": ["error", { checkLoops: false }],
    },
  },
  {
    // The bin is CommonJS (bin/selfharness.cjs says why).
    files: ["bin/**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { process: "readonly", console: "readonly", require: "readonly", __dirname: "readonly" } },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    // The core layers and the loop stay free of GitHub plumbing: only src/github may reach Probot or Octokit.
    files: ["src/traces/**", "src/mine/**", "src/propose/**", "src/gate/**", "src/report/**", "src/config/**", "src/llm/**", "src/text/**", "src/loop/**", "src/cli/**", "src/cli.ts", "src/index.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [
        { group: ["probot", "probot/*", "@octokit/*"], message: "The core never imports Probot or Octokit." },
        { group: ["**/github/**", "../github/*"], message: "The core never imports the GitHub layer." },
      ] }],
    },
  },
);
