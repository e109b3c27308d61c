import { describe, expect, it } from 'vitest';
import { approveCommand } from '../../src/cli/approve-command.js';

describe('approve command', () => {
  it('keeps the run’s arguments, drops what skips the review, and quotes values for a shell', () => {
    expect(approveCommand(['apply', 'pb.yml', '--host', 'demo', '--dry-run', '-e', 'sender=a@b.example', '--approve', 'old', '-y'], 'abc123')).toBe(
      'runbook apply pb.yml --host demo -e sender=a@b.example --approve abc123',
    );
    expect(approveCommand(['apply', 'pb.yml', '-n', '--approve=old', '-e', "sender=o'brien @x;rm -rf /"], 'h')).toBe(
      `runbook apply pb.yml -e 'sender=o'\\''brien @x;rm -rf /' --approve h`,
    );
  });
});
