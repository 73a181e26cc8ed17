/**
 * Fault injection for the aggregator's tests and benchmarks: an AWS SDK middleware that makes
 * calls fail before they reach the service, or after the service applied them (a lost response),
 * at seeded random points; and a verdict for failing whole invocations.
 */
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import type { KinesisHandler } from './stream-poller';
import { random } from '../lambdas/commons/random';

/** Decides, call by call, whether to fail it before sending, after it was applied, or not at all. */
export class FaultInjector {
  calls = 0;
  injected = { before: 0, after: 0, invocation: 0 };
  enabled = false;
  private rnd: () => number = random(0);
  private probability = 0;
  private commands: ReadonlySet<string> | undefined;
  /**
   * `commands`: only these fail (by default any): a command's name (`PutItemCommand`), or its name
   * and the table it writes (`UpdateItemCommand@aggregates`).
   */
  reset(seed: number, probability: number, commands?: readonly string[]): void {
    this.rnd = random(seed);
    this.probability = probability;
    this.commands = commands && new Set(commands);
    this.injected = { before: 0, after: 0, invocation: 0 };
  }
  decide(command = '', table?: string): 'before' | 'after' | undefined {
    this.calls++;
    const chosen = !this.commands || this.commands.has(command) || this.commands.has(`${command}@${table}`);
    if (!this.enabled || !chosen || this.rnd() >= this.probability) return undefined;
    return this.rnd() < 0.5 ? 'before' : 'after';
  }
  failInvocation(): boolean {
    return this.enabled && this.rnd() < this.probability;
  }
}

/**
 * What a provisioned DynamoDB table past its capacity answers once the SDK's own retries are spent
 * ("The AWS SDKs for DynamoDB automatically retry requests that receive this exception"): the write
 * was not applied, and the handler sees a failed call.
 */
export function throttled(command = ''): Error {
  return new ProvisionedThroughputExceededException({ message: `injected fault before DynamoDB ${command}: throughput exceeds the provisioned capacity`, $metadata: { httpStatusCode: 400 } });
}

/**
 * Adds the fault middleware to a client. It runs before the SDK's retry middleware, so a fault is
 * what the handler sees once retries are spent. A `before` fault throws `before(command)`
 * (default: a plain Error); an `after` fault throws once the service has applied the call.
 */
export function injectFaults(client: { middlewareStack: { add: (...args: never[]) => void } }, faults: FaultInjector, service: string, before?: (command: string) => Error): void {
  const middleware = (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
    const fault = faults.decide(context.commandName, (args as { input?: { TableName?: string } }).input?.TableName);
    if (fault === 'before') {
      faults.injected.before++;
      throw before ? before(context.commandName ?? '') : new Error(`injected fault before ${service} ${context.commandName}`);
    }
    const result = await next(args);
    if (fault === 'after') {
      faults.injected.after++;
      throw new Error(`injected fault after ${service} ${context.commandName} was applied`);
    }
    return result;
  };
  (client.middlewareStack.add as (m: unknown, o: unknown) => void)(middleware, { step: 'initialize', name: 'injectFaults' });
}


/** Wraps a Kinesis handler so whole invocations fail before they start or after they finished. */
export function withInvocationFaults(handler: KinesisHandler, faults: FaultInjector): KinesisHandler {
  return async (event, context) => {
    if (faults.failInvocation()) {
      faults.injected.invocation++;
      throw new Error('injected fault before the invocation');
    }
    const response = await handler(event, context);
    if (faults.failInvocation()) {
      faults.injected.invocation++;
      throw new Error('injected fault after the invocation finished');
    }
    return response;
  };
}

/**
 * Test-only thread faults, named in SDP_THREAD_FAULTS as `thread:kind:seconds` items separated by
 * commas (e.g. `aggregator:crash:2,kinesis:hang:3`): `seconds` after the fault is armed in the
 * named thread (a consumer thread by its name, an emulator by its kind), `crash` throws an uncaught
 * error in it and `hang` blocks it for good (Atomics.wait: it answers nothing, without spinning a
 * core). The platform arms the faults once it has started (ARM_FAULTS), and a restarted thread again.
 */
export const ARM_FAULTS = 'arm-faults';
export const threadFaultsSet = (): boolean => Boolean(process.env.SDP_THREAD_FAULTS);

export function armThreadFault(thread: string): void {
  for (const item of (process.env.SDP_THREAD_FAULTS ?? '').split(',')) {
    const [name, kind, seconds] = item.split(':');
    if (name !== thread) continue;
    const timer = setTimeout(() => {
      if (kind === 'crash') throw new Error(`injected fault: thread ${thread} crashed`);
      if (kind === 'hang') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    }, Number(seconds) * 1000);
    timer.unref();
  }
}

/**
 * Test-only: a consumer named in SDP_FAILING_CONSUMERS (comma-separated) fails every invocation,
 * as a handler that cannot process its batch (a bug, a dependency down) does.
 */
export function withConsumerFault(consumer: string, handler: KinesisHandler): KinesisHandler {
  if (!(process.env.SDP_FAILING_CONSUMERS ?? '').split(',').includes(consumer)) return handler;
  return async () => {
    throw new Error(`injected fault: ${consumer} cannot process its batch`);
  };
}
