/** Types of cli/command-index.js (plain JavaScript so bin/botflow.js can use it before tsx loads). */
export declare const COMMANDS_DIR: string;
export declare const COMMAND_NAME: RegExp;
export declare function commandNames(): Promise<string[]>;
export declare function staticSummary(name: string): Promise<string | undefined>;
export declare function version(): Promise<string>;
export declare function helpText(rows: readonly (readonly [string, string])[]): string;
export declare function quickAnswer(argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string } | undefined>;
