/** An error answered the way Stripe answers it: `{ error: { type, code?, message, param? } }`. */
export class StripeApiError extends Error {
  override readonly name = "StripeApiError";
  constructor(
    readonly status: number,
    message: string,
    readonly fields: { type?: string; code?: string; param?: string } = {},
  ) {
    super(message);
  }

  get body() {
    const { type = "invalid_request_error", code, param } = this.fields;
    return {
      error: {
        ...(code
          ? { code, doc_url: `https://stripe.com/docs/error-codes/${code.replaceAll("_", "-")}` }
          : {}),
        message: this.message,
        ...(param ? { param } : {}),
        type,
      },
    };
  }
}

export const badRequest = (message: string, param?: string, code?: string) =>
  new StripeApiError(400, message, { ...(param ? { param } : {}), ...(code ? { code } : {}) });

export const missing = (objectType: string, id: string, param = "id") =>
  new StripeApiError(404, `No such ${objectType}: '${id}'`, { code: "resource_missing", param });
