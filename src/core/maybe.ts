/**
 * Chaining for values that are sometimes promises. The Apps Script add-on must return its card
 * synchronously from a card callback, and its Sheet store is synchronous, while the Node store
 * is asynchronous. Code written with `andThen` stays synchronous when every step is, and becomes
 * a promise as soon as one step is.
 */
import type { MaybePromise } from './ports';

function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as Promise<T> | null)?.then === 'function';
}

export function andThen<T, U>(value: MaybePromise<T>, next: (resolved: T) => MaybePromise<U>): MaybePromise<U> {
  return isPromise(value) ? value.then(next) : next(value);
}

/** Runs `attempt`; errors it throws or rejects with go to `recover`, sync or async alike. */
export function attempt<T>(run: () => MaybePromise<T>, recover: (error: unknown) => MaybePromise<T>): MaybePromise<T> {
  let result: MaybePromise<T>;
  try {
    result = run();
  } catch (error) {
    return recover(error);
  }
  return isPromise(result) ? result.catch(recover) : result;
}

/** Unwraps a value that must be synchronous, as in an Apps Script card callback. */
export function now<T>(value: MaybePromise<T>): T {
  if (isPromise(value)) {
    throw new Error('A synchronous store returned a promise: the add-on cannot wait for it.');
  }
  return value;
}
