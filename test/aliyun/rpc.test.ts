import { describe, expect, it } from 'vitest';
import {
  canonicalQuery,
  encodeForm,
  percentEncode,
  rpcSignature,
  rpcStringToSign,
  rpcTimestamp,
} from '../../src/platforms/aliyun/rpc.js';

/**
 * Known answers published by Alibaba Cloud for the RPC signature (V2, HMAC-SHA1).
 *
 * DescribeRegions with AccessKeyId `testid`, secret `testsecret`, from the "signature mechanism"
 * page (ECS API reference, https://help.aliyun.com/document_detail/28139.html; now "Request syntax
 * and signature method V2 for RPC APIs", https://www.alibabacloud.com/help/en/sdk/product-overview/rpc-mechanism).
 * The current edition spells the parameter `Timestamp` and gives OLeaidS1JvxuMvnyHOwuJ+uX5qY=;
 * older editions (still copied into many product references, e.g.
 * https://developer.aliyun.com/ask/210168) spell it `TimeStamp` and give CT9X0VtwR86fNWSnsc6v8YGOjuE=.
 */
const DOC_PARAMS = {
  AccessKeyId: 'testid',
  Action: 'DescribeRegions',
  Format: 'XML',
  SignatureMethod: 'HMAC-SHA1',
  SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
  SignatureVersion: '1.0',
  Version: '2014-05-26',
};

describe('Alibaba Cloud RPC signature (V2)', () => {
  it('builds the documented string to sign for DescribeRegions', () => {
    expect(rpcStringToSign('GET', { ...DOC_PARAMS, Timestamp: '2016-02-23T12:46:24Z' })).toBe(
      'GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML' +
        '%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf' +
        '%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26',
    );
  });

  it('matches the documented DescribeRegions signatures (both editions of the page)', () => {
    expect(rpcSignature('GET', { ...DOC_PARAMS, Timestamp: '2016-02-23T12:46:24Z' }, 'testsecret')).toBe(
      'OLeaidS1JvxuMvnyHOwuJ+uX5qY=',
    );
    expect(rpcSignature('GET', { ...DOC_PARAMS, TimeStamp: '2016-02-23T12:46:24Z' }, 'testsecret')).toBe(
      'CT9X0VtwR86fNWSnsc6v8YGOjuE=',
    );
  });

  it('matches the documented Mobile Push GetDeviceInfos signature (a value with a comma, RegionId)', () => {
    // https://help.aliyun.com/knowledge_detail/72024.html, as quoted in aliyun SDK tests.
    const params = {
      Format: 'XML',
      AccessKeyId: 'testid',
      Action: 'GetDeviceInfos',
      SignatureMethod: 'HMAC-SHA1',
      RegionId: 'cn-hangzhou',
      Devices: 'e2ba19de97604f55b165576736477b74,92a1da34bdfd4c9692714917ce22d53d',
      SignatureNonce: 'c4f5f0de-b3ff-4528-8a89-fa478bda8d80',
      SignatureVersion: '1.0',
      Version: '2016-08-01',
      AppKey: '23267207',
      Timestamp: '2016-03-29T03:59:24Z',
    };
    expect(rpcSignature('GET', params, 'testsecret')).toBe('D6ldYxo/chwOlfv8Ug8REyWU0mk=');
  });

  it('signs the method: the same parameters POSTed sign differently', () => {
    const params = { ...DOC_PARAMS, Timestamp: '2016-02-23T12:46:24Z' };
    expect(rpcStringToSign('POST', params).startsWith('POST&%2F&')).toBe(true);
    expect(rpcSignature('POST', params, 'testsecret')).not.toBe(rpcSignature('GET', params, 'testsecret'));
  });

  it('percent-encodes per RFC 3986: space %20, * %2A, ~ kept, UTF-8 bytes', () => {
    expect(percentEncode('a b*c~d')).toBe('a%20b%2Ac~d');
    expect(percentEncode("!'()")).toBe('%21%27%28%29');
    expect(percentEncode('-_.')).toBe('-_.');
    expect(percentEncode('阿里云')).toBe('%E9%98%BF%E9%87%8C%E4%BA%91');
    expect(percentEncode('{"code":"123456"}')).toBe('%7B%22code%22%3A%22123456%22%7D');
    expect(percentEncode('a+b=c&d/e')).toBe('a%2Bb%3Dc%26d%2Fe');
  });

  it('sorts by name, leaves Signature out, and encodes names and values', () => {
    expect(canonicalQuery({ b: '2', Signature: 'x', a: 'x y', B: '1' })).toBe('B=1&a=x%20y&b=2');
    expect(encodeForm({ a: 'x y', b: '*' })).toBe('a=x%20y&b=%2A');
  });

  it('writes Timestamp in UTC without milliseconds', () => {
    expect(rpcTimestamp(new Date('2016-02-23T12:46:24.789Z'))).toBe('2016-02-23T12:46:24Z');
    expect(rpcTimestamp(new Date('2024-06-01T00:00:00+08:00'))).toBe('2024-05-31T16:00:00Z');
  });
});
