/**
 * The emulated LockService. A lock belongs to an execution: another execution's tryLock waits
 * out its timeout (the clock advances by it) and fails, waitLock throws, and the lock is
 * released when its execution ends, as Apps Script does.
 */
import type { Execution, Runtime, Subset } from './runtime';

type LockApi = GoogleAppsScript.Lock.Lock;
type LockServiceApi = GoogleAppsScript.Lock.LockService;

/** Which execution holds each lock, by lock name ('script' or 'user:<email>'). */
export class LockTable {
  private readonly owners = new Map<string, Execution>();

  constructor(rt: Runtime) {
    rt.onExecutionEnd((execution) => {
      for (const [name, owner] of this.owners) if (owner === execution) this.owners.delete(name);
    });
  }

  owner(name: string): Execution | undefined {
    return this.owners.get(name);
  }

  take(name: string, execution: Execution): void {
    this.owners.set(name, execution);
  }

  release(name: string): void {
    this.owners.delete(name);
  }

  /** Returns the names of the executions that own locks, by lock name, for tests. */
  held(): Record<string, string> {
    return Object.fromEntries([...this.owners].map(([name, owner]) => [name, owner.name]));
  }
}

export class EmulatedLock implements Subset<LockApi, 'tryLock' | 'waitLock' | 'releaseLock' | 'hasLock'> {
  private acquiredBy: Execution | undefined;

  constructor(
    private readonly rt: Runtime,
    private readonly table: LockTable,
    private readonly name: string,
  ) {}

  tryLock(timeoutInMillis: number): boolean {
    return this.rt.track('Lock.tryLock', () => this.acquire(timeoutInMillis));
  }

  waitLock(timeoutInMillis: number): void {
    this.rt.track('Lock.waitLock', () => {
      if (!this.acquire(timeoutInMillis)) {
        throw this.rt.exception('Lock timeout: another process was holding the lock for too long.');
      }
    });
  }

  releaseLock(): void {
    this.rt.track('Lock.releaseLock', () => {
      if (this.table.owner(this.name) === this.rt.current()) this.table.release(this.name);
      this.acquiredBy = undefined;
    });
  }

  hasLock(): boolean {
    return this.rt.track(
      'Lock.hasLock',
      () => this.acquiredBy !== undefined && this.table.owner(this.name) === this.acquiredBy,
    );
  }

  /**
   * Takes the lock when it is free or already this execution's. Otherwise waits out the timeout,
   * because no other execution can run and release it while this one waits.
   */
  private acquire(timeoutInMillis: number): boolean {
    if (typeof timeoutInMillis !== 'number' || !Number.isFinite(timeoutInMillis) || timeoutInMillis < 0) {
      throw this.rt.exception(`Invalid argument: timeoutInMillis (${String(timeoutInMillis)})`);
    }
    const execution = this.rt.current();
    const owner = this.table.owner(this.name);
    if (owner === undefined || owner === execution || owner.ended) {
      this.table.take(this.name, execution);
      this.acquiredBy = execution;
      return true;
    }
    this.rt.clock.advance(timeoutInMillis);
    return false;
  }
}

export class EmulatedLockService implements Subset<LockServiceApi, 'getScriptLock' | 'getUserLock' | 'getDocumentLock'> {
  constructor(
    private readonly rt: Runtime,
    private readonly table: LockTable,
    private readonly user: string,
  ) {}

  getScriptLock(): EmulatedLock {
    return this.rt.track('LockService.getScriptLock', () => new EmulatedLock(this.rt, this.table, 'script'));
  }

  getUserLock(): EmulatedLock {
    return this.rt.track('LockService.getUserLock', () => new EmulatedLock(this.rt, this.table, `user:${this.user}`));
  }

  /** Null, as for any script that is not bound to a document. */
  getDocumentLock(): null {
    return this.rt.track('LockService.getDocumentLock', () => null);
  }
}
