// Lint rules: typescript-eslint's recommended set, plus the house rules the code already follows.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["node_modules/**", "bin/**", "test/fixtures/**"] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        rules: {
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
            "@typescript-eslint/no-explicit-any": "error",
            eqeqeq: ["error", "always"],
            "no-restricted-imports": [
                "error",
                {
                    patterns: [
                        {
                            group: ["**/test/**", "../test/*", "../../test/*"],
                            message: "product code never imports test code",
                        },
                    ],
                },
            ],
        },
    },
    {
        // The harness may import from test/ (it is test code itself).
        files: ["test/**/*.ts"],
        rules: { "no-restricted-imports": "off" },
    },
);
