/**
 * Prints what went wrong in words and sets the exit code: 2 for configuration, 1 otherwise. Only
 * an unforeseen error shows its stack. Errors are told apart by name, not class: the commands run
 * from the second bundle (actions.ts), which has its own copy of each class.
 */
export function reportFailure(error: unknown): void {
  const name = error instanceof Error ? error.name : "";
  if (name === "ConfigError") {
    console.error((error as Error).message);
    process.exitCode = 2;
  } else if (name === "AppError" || name === "PortTaken") {
    console.error(`Error: ${(error as Error).message}`);
    process.exitCode = 1;
  } else {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  }
}
