// The failure an action's activity ended with: tests assert on its message, type and retry verdict.
import { ApplicationFailure } from '@temporalio/common';
import { expect } from 'vitest';

/** Awaits `promise`, which must reject with an ApplicationFailure; `record` sees it first (tests that collect every message, e.g. to check no secret is in any). */
export async function failureOf(promise: Promise<unknown>, record?: (failure: ApplicationFailure) => void): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ApplicationFailure);
    record?.(error as ApplicationFailure);
    return error as ApplicationFailure;
  }
  throw new Error('expected the action to fail');
}
