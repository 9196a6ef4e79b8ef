/**
 * One small error family. Core verbs throw these; the HTTP layer maps `code` to a status in
 * exactly one place (src/http/errors.ts) and the CLI prints `message`.
 */
export type ErrorCode =
  | "invalid_input" // 400
  | "unauthenticated" // 401
  | "forbidden" // 403
  | "not_found" // 404
  | "conflict" // 409
  | "gone" // 410
  | "too_large" // 413
  | "range_not_satisfiable" // 416
  | "unprocessable" // 422
  | "rate_limited" // 429
  | "unavailable"; // 503

export class AppError extends Error {
  override readonly name = "AppError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const invalidInput = (message: string, details?: Record<string, unknown>) =>
  new AppError("invalid_input", message, details);
export const unauthenticated = (message = "Please sign in to continue.") =>
  new AppError("unauthenticated", message);
export const forbidden = (message: string) => new AppError("forbidden", message);
export const notFound = (message: string) => new AppError("not_found", message);
export const conflict = (message: string) => new AppError("conflict", message);
export const gone = (message: string) => new AppError("gone", message);
export const tooLarge = (message: string) => new AppError("too_large", message);
export const unprocessable = (message: string, details?: Record<string, unknown>) =>
  new AppError("unprocessable", message, details);
export const rateLimited = (message: string, retryAfterSeconds: number) =>
  new AppError("rate_limited", message, { retryAfterSeconds });
export const unavailable = (message: string) => new AppError("unavailable", message);

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;
