import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import QRCode from 'qrcode';
import { CustodianError } from '../domain/errors.js';

/** Width of the PNG in pixels: sharp on a storefront banner, small enough to upload anywhere. */
export const POLICY_QR_PNG_WIDTH = 512;

const QR_OPTIONS = { errorCorrectionLevel: 'M', margin: 2 } as const;

export interface PolicyQrFiles {
  /** Absolute path of the PNG. */
  readonly png: string;
  /** Absolute path of the SVG. */
  readonly svg: string;
}

/**
 * Writes a QR code for the policy's URL as `<outBase>.png` (512 px) and `<outBase>.svg`, for the
 * Tmall storefront to show (`custodian policy qr`). Error correction M, a 2-module quiet zone.
 * A `.png` or `.svg` ending on `outBase` is dropped. Each file is written to a temporary name and
 * renamed, so a reader never sees half a file.
 */
export async function writePolicyQr(url: string, outBase: string): Promise<PolicyQrFiles> {
  if (!isHttpUrl(url)) {
    throw new CustodianError('ERR_USAGE_INVALID', 'the policy QR code needs an absolute http(s) URL', {
      details: { option: 'url' },
    });
  }
  const base = resolve(outBase.replace(/\.(png|svg)$/i, ''));
  const files: PolicyQrFiles = { png: `${base}.png`, svg: `${base}.svg` };
  await mkdir(dirname(base), { recursive: true });
  const png = await QRCode.toBuffer(url, { ...QR_OPTIONS, type: 'png', width: POLICY_QR_PNG_WIDTH });
  const svg = await QRCode.toString(url, { ...QR_OPTIONS, type: 'svg', width: POLICY_QR_PNG_WIDTH });
  await writeAtomically(files.png, png);
  await writeAtomically(files.svg, svg);
  return files;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
  } catch {
    return false;
  }
}

async function writeAtomically(path: string, data: Uint8Array | string): Promise<void> {
  const temp = `${path}.${process.pid.toString()}.tmp`;
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
