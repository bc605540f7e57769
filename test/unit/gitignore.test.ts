import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { outputPathsOf } from '../../lib/import/outputs';

// What an import writes beside its input (lib/import/outputs.ts), and the sample file the
// README's commands write, stay out of git: they hold members' data (the rejects file holds
// lines as they were) and change on every run. Nothing committed is ignored.

const ROOT = join(__dirname, '..', '..');

function ignored(paths: string[]): string[] {
  try {
    return execFileSync('git', ['check-ignore', '--no-index', ...paths], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
  } catch (error) {
    // Exit status 1: none of them is ignored.
    if ((error as { status?: number }).status === 1) return [];
    throw error;
  }
}

describe('.gitignore', () => {
  it.each([
    ['members.jsonl', 'jsonl'],
    ['members.csv', 'csv'],
    ['exports/brand-2026-11.jsonl', 'jsonl'],
    ['exports/members', 'jsonl'],
  ])('ignores the results, rejects and checkpoint files an import of %s writes', (file, extension) => {
    const { results, rejects, checkpoint } = outputPathsOf(file, extension);
    const outputs = [results, rejects, checkpoint, `${checkpoint}.tmp`];
    expect(ignored(outputs)).toEqual(outputs);
  });

  it('ignores the sample files the README writes with npm run sample-members', () => {
    const samples = ['members.jsonl', 'members.csv', 'members-2026-11.jsonl'];
    expect(ignored(samples)).toEqual(samples);
  });

  it('ignores no committed file', () => {
    const committed = execFileSync('git', ['ls-files', '--cached', '--ignored', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
    expect(committed.split('\n').filter(Boolean)).toEqual([]);
  });
});
