import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { PROVINCES } from '../../src/domain/synthetic/index.js';
import { splitAddress } from '../../src/platforms/tmall/address.js';
import { createDecoder, detectEncoding } from '../../src/platforms/tmall/encoding.js';
import {
  classifyPhone,
  cleanCell,
  excelSerialToDateTime,
  parseAmount,
  parseExportDateTime,
  parseOrderId,
} from '../../src/platforms/tmall/values.js';

describe('export cell values', () => {
  it('strips spreadsheet quoting artefacts', () => {
    expect(cleanCell('="4123456789012345678"')).toBe('4123456789012345678');
    expect(cleanCell("'13812345678")).toBe('13812345678');
    expect(cleanCell('=123')).toBe('123');
    expect(cleanCell('\t 交易成功 \u3000')).toBe('交易成功');
    expect(cleanCell('="a""b"')).toBe('a"b');
  });

  it('reads the date formats exports use, and refuses impossible dates', () => {
    expect(parseExportDateTime('2025-03-01 12:34:56')).toBe('2025-03-01 12:34:56');
    expect(parseExportDateTime('2025/3/1 9:05')).toBe('2025-03-01 09:05:00');
    expect(parseExportDateTime('2024-02-29')).toBe('2024-02-29 00:00:00');
    expect(parseExportDateTime('2025年3月1日 12:00:00')).toBe('2025-03-01 12:00:00');
    for (const bad of ['2025-13-45 25:61:00', '2023-02-29', '2025-03-01 24:00:00', 'yesterday', '45678'])
      expect(parseExportDateTime(bad)).toBeUndefined();
    expect(excelSerialToDateTime(45717.5)).toBe('2025-03-01 12:00:00');
  });

  it('reads money and order ids, refusing what a spreadsheet destroyed', () => {
    expect(parseAmount('128.5')).toBe('128.50');
    expect(parseAmount('¥1,234.00')).toBe('1234.00');
    expect(parseAmount('12.345')).toBeUndefined();
    expect(parseOrderId('4123456789012345678')).toBe('4123456789012345678');
    expect(parseOrderId('4.12346E+18')).toBeUndefined();
  });

  it('tells real numbers from masked ones and Taobao privacy numbers (R30)', () => {
    expect(classifyPhone('+86 138 1234 5678')).toEqual({ kind: 'mobile', value: '13812345678' });
    expect(classifyPhone('138****5678')).toEqual({ kind: 'masked' });
    expect(classifyPhone('*')).toEqual({ kind: 'masked' });
    expect(classifyPhone('18877771111-123')).toEqual({ kind: 'virtual', value: '18877771111-123' });
    expect(classifyPhone('0571-88886666')).toEqual({ kind: 'landline', value: '0571-88886666' });
    expect(classifyPhone('12345')).toEqual({ kind: 'invalid' });
  });
});

describe('收货地址 splitting', () => {
  const cases: [string, [string, string, string, string]][] = [
    [
      '浙江省 杭州市 西湖区 文三路 478 号 3 幢 1201 室',
      ['浙江省', '杭州市', '西湖区', '文三路 478 号 3 幢 1201 室'],
    ],
    ['浙江省杭州市西湖区文三路478号', ['浙江省', '杭州市', '西湖区', '文三路478号']],
    ['北京 北京市 朝阳区 建国路 88 号', ['北京市', '北京市', '朝阳区', '建国路 88 号']],
    ['北京市朝阳区建国路88号', ['北京市', '北京市', '朝阳区', '建国路88号']],
    ['上海 上海市 市辖区 浦东新区 世纪大道 100 号', ['上海市', '上海市', '浦东新区', '世纪大道 100 号']],
    [
      '内蒙古自治区 锡林郭勒盟 锡林浩特市 额尔敦路 1 号',
      ['内蒙古自治区', '锡林郭勒盟', '锡林浩特市', '额尔敦路 1 号'],
    ],
    ['吉林省延边朝鲜族自治州延吉市光明街 5 号', ['吉林省', '延边朝鲜族自治州', '延吉市', '光明街 5 号']],
    ['西藏自治区阿里地区噶尔县狮泉河镇', ['西藏自治区', '阿里地区', '噶尔县', '狮泉河镇']],
    [
      '广西壮族自治区 南宁市 青秀区 民族大道 1 号(530000)',
      ['广西壮族自治区', '南宁市', '青秀区', '民族大道 1 号'],
    ],
    ['广东省东莞市长安镇锦厦路 3 号', ['广东省', '东莞市', '', '长安镇锦厦路 3 号']],
    ['江苏省 苏州市 昆山市 前进西路 1 号', ['江苏省', '苏州市', '昆山市', '前进西路 1 号']],
    ['山东省济南市市中区经十路 1 号', ['山东省', '济南市', '市中区', '经十路 1 号']],
    ['山东省 青岛市 市南区 香港中路 9 号', ['山东省', '青岛市', '市南区', '香港中路 9 号']],
    ['香港特别行政区 九龙 尖沙咀 弥敦道 1 号', ['香港特别行政区', '', '', '九龙 尖沙咀 弥敦道 1 号']],
  ];
  it.each(cases)('%s', (text, [province, city, district, street]) => {
    expect(splitAddress(text)).toEqual({ ok: true, address: { province, city, district, street } });
  });

  it('splits every place of the synthetic regions, spaced as the seller centre writes it and run together', () => {
    for (const province of PROVINCES)
      for (const city of province.cities)
        for (const district of city.districts) {
          const municipal = city.name === province.name;
          const expected = {
            province: province.name,
            city: city.name,
            district: district.name,
            street: '解放路 8 号',
          };
          const spaced = `${municipal ? province.name.slice(0, -1) : province.name} ${city.name} ${district.name} 解放路 8 号`;
          const glued = `${province.name}${municipal ? '' : city.name}${district.name}解放路 8 号`;
          expect(splitAddress(spaced), spaced).toEqual({ ok: true, address: expected });
          expect(splitAddress(glued), glued).toEqual({ ok: true, address: expected });
        }
  });

  it('keeps an address it cannot place whole, as the street', () => {
    expect(splitAddress('火星基地 3 号舱')).toEqual({ ok: false, street: '火星基地 3 号舱' });
  });
});

describe('encoding detection', () => {
  const text =
    '订单编号,买家会员名,收货人姓名,收货地址\n4123,tb1,张三,浙江省 杭州市 西湖区 文三路 478 号\n'.repeat(20);

  it('takes a byte-order mark first, then well-formed UTF-8, then chardet (GBK → GB18030)', () => {
    expect(detectEncoding(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]))).toMatchObject(
      {
        encoding: 'utf-8',
        by: 'bom',
        bomLength: 3,
      },
    );
    expect(detectEncoding(Buffer.from(text))).toMatchObject({ encoding: 'utf-8', by: 'utf-8-valid' });
    expect(detectEncoding(iconv.encode(text, 'gbk'))).toMatchObject({ encoding: 'gb18030', by: 'chardet' });
  });

  it('tolerates a UTF-8 character cut off at the end of the sample', () => {
    const bytes = Buffer.from(text);
    expect(detectEncoding(bytes.subarray(0, bytes.length - 2))).toMatchObject({ encoding: 'utf-8' });
  });

  const decodeAll = (bytes: Uint8Array, encoding: 'gb18030' | 'big5'): string => {
    const decoder = createDecoder(encoding);
    return decoder.write(bytes) + decoder.end();
  };

  it('reads a tiny GBK export as GB18030 when chardet ties it with Big5', () => {
    const tiny = '订单编号,收货人姓名,订单创建时间\n4123456789012345678,张三,2025-03-01 12:00:00\n';
    const bytes = iconv.encode(tiny, 'gbk');
    for (const sample of [bytes, bytes.subarray(0, bytes.length - 1)])
      expect(detectEncoding(sample, sample === bytes)).toMatchObject({ encoding: 'gb18030', by: 'chardet' });
    const decoded = decodeAll(bytes, 'gb18030');
    expect(decoded).toBe(tiny);
    expect(decoded.split('\n')[1]!.split(',')[1]).toBe('张三');
  });

  it('reads GBK as GB18030 even where chardet scores Big5 higher: the header or invalid Big5 bytes say GBK', () => {
    // One 单 in a small file puts chardet's Big5 above GB18030; the header names the seller centre's columns.
    const named = '订单编号,收货人姓名,订单创建时间\n4123456789012345678,单张,2025-03-01 12:00:00\n';
    expect(detectEncoding(iconv.encode(named, 'gbk'), true)).toMatchObject({ encoding: 'gb18030' });
    // A header of its own, but 張 (8F 88 in GBK) is no Big5; the sample ends in half a 单.
    const bytes = iconv.encode('单号,备注\n1,单单单单单張单单', 'gbk');
    expect(detectEncoding(bytes.subarray(0, bytes.length - 1))).toMatchObject({ encoding: 'gb18030' });
  });

  it('still reads a Big5 export as Big5', () => {
    const big5 = '訂單編號,收貨人姓名,訂單創建時間\n4123456789012345678,張三,2025-03-01 12:00:00\n';
    const bytes = iconv.encode(big5, 'big5');
    expect(detectEncoding(bytes, true)).toMatchObject({ encoding: 'big5', by: 'chardet' });
    expect(decodeAll(bytes, 'big5')).toBe(big5);
  });

  it('decodes GB18030 across chunk boundaries, including characters outside GBK', () => {
    const rare = `${text}𠮷䶮`;
    const bytes = iconv.encode(rare, 'gb18030');
    const decoder = createDecoder('gb18030');
    let out = '';
    for (let i = 0; i < bytes.length; i += 7) out += decoder.write(bytes.subarray(i, i + 7));
    out += decoder.end();
    expect(out).toBe(rare);
  });
});
