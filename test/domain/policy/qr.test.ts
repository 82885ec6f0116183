import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writePolicyQr } from '../../../src/services/policy-qr.js';
import { tempDir } from '../../support/tmp.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('writePolicyQr', () => {
  const dirs: { remove: () => void }[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) d.remove();
  });

  it('writes a PNG and an SVG for the storefront', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const files = await writePolicyQr(
      'https://shop.example.com/privacy/policy',
      join(dir.path, 'out', 'policy-qr'),
    );
    expect(files).toEqual({
      png: join(dir.path, 'out', 'policy-qr.png'),
      svg: join(dir.path, 'out', 'policy-qr.svg'),
    });
    const png = readFileSync(files.png);
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    // IHDR: width and height of 512 pixels.
    expect(png.readUInt32BE(16)).toBe(512);
    expect(png.readUInt32BE(20)).toBe(512);
    const svg = readFileSync(files.svg, 'utf8');
    expect(svg).toContain('<svg');
    expect(svg).toContain('viewBox');
  });

  it('drops an extension given on the base and leaves no temporary files', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const files = await writePolicyQr('http://127.0.0.1:8080/privacy/policy', join(dir.path, 'qr.png'));
    expect(files.png).toBe(join(dir.path, 'qr.png'));
    expect(existsSync(join(dir.path, 'qr.svg'))).toBe(true);
    expect(existsSync(`${files.png}.${process.pid.toString()}.tmp`)).toBe(false);
  });

  it('refuses anything but an absolute http(s) URL', async () => {
    const dir = tempDir();
    dirs.push(dir);
    await expect(writePolicyQr('/privacy/policy', join(dir.path, 'qr'))).rejects.toMatchObject({
      code: 'ERR_USAGE_INVALID',
    });
    await expect(writePolicyQr('javascript:alert(1)', join(dir.path, 'qr'))).rejects.toMatchObject({
      code: 'ERR_USAGE_INVALID',
    });
    expect(existsSync(join(dir.path, 'qr.png'))).toBe(false);
  });
});
