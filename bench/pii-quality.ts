/**
 * PII detection quality on the generated labelled corpus (src/domain/pii/corpus.ts): precision
 * and recall per type. A finding is a true positive when its type equals a label's and the spans
 * are equal or overlap by at least 90 % (intersection over union).
 *
 *   node --import tsx bench/pii-quality.ts [--seed S] [--size N] [--baseline] [--errors]
 *
 * prints one JSON line: {"bench":"pii-quality","seed":…,"snippets":…,"perType":{…}}.
 * `--baseline` scores the context-free `findPii` of validators.ts instead of `detectPii`, for
 * comparison (it knows no USCCs or passports). `--errors` also prints every false positive and
 * false negative to stderr (synthetic data only).
 */

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateCorpus, type CorpusSnippet } from '../src/domain/pii/corpus.js';
import { detectPii, PII_TYPES, type PiiType } from '../src/domain/pii/detect.js';
import { findPii } from '../src/domain/pii/validators.js';

export interface TypeQuality {
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  /** tp / (tp + fp); 1 when nothing was reported. */
  readonly precision: number;
  /** tp / (tp + fn); 1 when nothing was labelled. */
  readonly recall: number;
}

export interface PiiQualityReport {
  readonly bench: 'pii-quality';
  readonly detector: 'detectPii' | 'findPii';
  readonly seed: string;
  readonly snippets: number;
  /** Snippets without any personal information (look-alikes only). */
  readonly negatives: number;
  readonly perType: Readonly<Record<PiiType, TypeQuality>>;
  readonly ms: number;
}

export interface QualityError {
  readonly kind: 'fp' | 'fn';
  readonly type: PiiType;
  readonly snippet: CorpusSnippet;
  readonly start: number;
  readonly end: number;
  readonly confidence?: number;
}

/** Default held-out seed and size of the standalone run. */
export const DEFAULT_SEED = 'pii-holdout-2026';
export const DEFAULT_SIZE = 5000;

function iou(a: { start: number; end: number }, b: { start: number; end: number }): number {
  const inter = Math.max(0, Math.min(a.end, b.end) - Math.max(a.start, b.start));
  const union = Math.max(a.end, b.end) - Math.min(a.start, b.start);
  return union === 0 ? 0 : inter / union;
}

type Detector = (
  text: string,
) => readonly { type: PiiType; start: number; end: number; confidence?: number }[];

const DETECTORS: Readonly<Record<PiiQualityReport['detector'], Detector>> = {
  detectPii: (text) => detectPii(text),
  findPii: (text) => findPii(text).map((m) => ({ type: m.kind, start: m.start, end: m.end })),
};

/** Scores a detector (default {@link detectPii}) on a corpus. */
export function measurePiiQuality(
  corpus: readonly CorpusSnippet[],
  options: {
    seed?: string;
    detector?: PiiQualityReport['detector'];
    onError?: (e: QualityError) => void;
  } = {},
): PiiQualityReport {
  const detector = options.detector ?? 'detectPii';
  const detect = DETECTORS[detector];
  const counts = new Map<PiiType, { tp: number; fp: number; fn: number }>(
    PII_TYPES.map((t) => [t, { tp: 0, fp: 0, fn: 0 }]),
  );
  const began = performance.now();
  for (const snippet of corpus) {
    const findings = detect(snippet.text);
    const open = [...snippet.labels];
    for (const f of findings) {
      const i = open.findIndex((l) => l.type === f.type && iou(l, f) >= 0.9);
      if (i >= 0) {
        counts.get(f.type)!.tp++;
        open.splice(i, 1);
      } else {
        counts.get(f.type)!.fp++;
        options.onError?.({
          kind: 'fp',
          type: f.type,
          snippet,
          start: f.start,
          end: f.end,
          ...(f.confidence === undefined ? {} : { confidence: f.confidence }),
        });
      }
    }
    for (const l of open) {
      counts.get(l.type)!.fn++;
      options.onError?.({ kind: 'fn', type: l.type, snippet, start: l.start, end: l.end });
    }
  }
  const ms = Math.round(performance.now() - began);
  const round = (x: number): number => Math.round(x * 10000) / 10000;
  const perType = Object.fromEntries(
    PII_TYPES.map((t) => {
      const { tp, fp, fn } = counts.get(t)!;
      return [
        t,
        {
          tp,
          fp,
          fn,
          precision: tp + fp === 0 ? 1 : round(tp / (tp + fp)),
          recall: tp + fn === 0 ? 1 : round(tp / (tp + fn)),
        },
      ];
    }),
  ) as Record<PiiType, TypeQuality>;
  return {
    bench: 'pii-quality',
    detector,
    seed: options.seed ?? '',
    snippets: corpus.length,
    negatives: corpus.filter((s) => s.labels.length === 0).length,
    perType,
    ms,
  };
}

/** Generates the corpus for `seed` and scores {@link detectPii} on it. */
export function runPiiQuality(
  seed: string = DEFAULT_SEED,
  size: number = DEFAULT_SIZE,
  options: { detector?: PiiQualityReport['detector']; onError?: (e: QualityError) => void } = {},
): PiiQualityReport {
  return measurePiiQuality(generateCorpus(seed, size), { seed, ...options });
}

const invokedDirectly = ((): boolean => {
  try {
    return (
      process.argv[1] !== undefined &&
      realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
    );
  } catch {
    return false;
  }
})();

if (invokedDirectly) {
  const args = process.argv.slice(2);
  const value = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const seed = value('--seed') ?? DEFAULT_SEED;
  const size = Number(value('--size') ?? DEFAULT_SIZE);
  if (!Number.isSafeInteger(size) || size < 1) {
    process.stderr.write('pii-quality: --size must be a positive integer\n');
    process.exitCode = 2;
  } else {
    const report = runPiiQuality(seed, size, {
      detector: args.includes('--baseline') ? 'findPii' : 'detectPii',
      ...(args.includes('--errors')
        ? {
            onError: (e: QualityError) =>
              process.stderr.write(
                `${e.kind} ${e.type} ${e.snippet.template} [${e.snippet.text.slice(e.start, e.end)}]${e.confidence === undefined ? '' : ` ${e.confidence}`} | ${e.snippet.text.replace(/\n/g, '⏎')}\n`,
              ),
          }
        : {}),
    });
    process.stdout.write(`${JSON.stringify(report)}\n`);
  }
}
