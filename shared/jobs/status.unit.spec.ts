import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JobEvent } from '../events/events.ts';
import { STATUS_MOVES, statusOf } from './status.ts';

const at = (type: JobEvent['type']) => ({ type }) as JobEvent;

describe('a job status, defined once', () => {
  it('moves forward only: PENDING → PROCESSING → COMPLETED', () => {
    assert.equal(statusOf([at('JobSubmitted')]), 'PENDING');
    assert.equal(statusOf([at('JobSubmitted'), at('StepStarted')]), 'PROCESSING');
    assert.equal(statusOf([at('StepStarted'), at('JobCompleted'), at('StepStarted')]), 'COMPLETED');
  });

  it('a failed job stays failed; a late completion does not revive it', () => {
    assert.equal(statusOf([at('StepStarted'), at('JobFailed'), at('JobCompleted')]), 'FAILED');
  });

  it('a webhook that failed for good marks a completed job, a later delivery clears it', () => {
    const failed = [at('JobCompleted'), at('WebhookFailed')];
    assert.equal(statusOf(failed), 'COMPLETED_WEBHOOK_FAILED');
    assert.equal(statusOf([...failed, at('WebhookDelivered')]), 'COMPLETED');
    assert.equal(statusOf([at('JobFailed'), at('WebhookFailed')]), 'FAILED');
  });

  it('every move leads forward from where it applies', () => {
    for (const [type, move] of Object.entries(STATUS_MOVES)) {
      assert.ok(move !== undefined && !move.from.includes(move.to), type);
    }
  });
});
