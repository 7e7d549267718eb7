/** The one error class of nvct: a stable code, a message that quotes the input, and the cause. */
export class NvctError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly cause?: unknown,
  ) {
    super(message);
    this.name = "NvctError";
  }
}
