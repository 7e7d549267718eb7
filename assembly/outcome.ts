// Failures as values: the core never throws (AssemblyScript cannot catch; a throw is a trap).
import { Code, Failure, Outcome } from "../build/out/gen/types";

/** A failed outcome with a stable code and a message that quotes the input. */
export function fail<T>(code: Code, message: string): Outcome<T> {
  const f = new Failure();
  f.code = code;
  f.message = message;
  const o = new Outcome<T>(changetype<T>(<usize>0));
  o.failure = f;
  return o;
}

/** The failure of `from`, as an outcome of another type. */
export function pass<T, U>(from: Outcome<U>): Outcome<T> {
  const o = new Outcome<T>(changetype<T>(<usize>0));
  o.failure = from.failure;
  return o;
}

/** A failure value (for helpers that return a failure or null). */
export function failure(code: Code, message: string): Failure {
  const f = new Failure();
  f.code = code;
  f.message = message;
  return f;
}

/** The outcome of a failure value. */
export function failed<T>(f: Failure): Outcome<T> {
  const o = new Outcome<T>(changetype<T>(<usize>0));
  o.failure = f;
  return o;
}
