/**
 * A subset of the GB/T 2260 administrative divisions: 20 province-level divisions, 1–3 cities
 * each, 1–5 districts per city, with their six-digit codes and the city's main postal code.
 * Enough for realistic synthetic addresses and resident ids whose first six digits match the
 * address. Not a complete or authoritative list.
 */

export interface District {
  readonly name: string;
  /** Six-digit GB/T 2260 code. */
  readonly code: string;
}

export interface City {
  readonly name: string;
  readonly postalCode: string;
  readonly districts: readonly District[];
}

export interface Province {
  readonly name: string;
  /** Two-digit province-level code (the first two digits of every code below it). */
  readonly code: string;
  readonly cities: readonly City[];
}

function d(name: string, code: string): District {
  return { name, code };
}

export const PROVINCES: readonly Province[] = [
  {
    name: '北京市',
    code: '11',
    cities: [
      {
        name: '北京市',
        postalCode: '100000',
        districts: [
          d('东城区', '110101'),
          d('西城区', '110102'),
          d('朝阳区', '110105'),
          d('海淀区', '110108'),
          d('丰台区', '110106'),
        ],
      },
    ],
  },
  {
    name: '天津市',
    code: '12',
    cities: [
      {
        name: '天津市',
        postalCode: '300000',
        districts: [d('和平区', '120101'), d('河西区', '120103'), d('南开区', '120104')],
      },
    ],
  },
  {
    name: '河北省',
    code: '13',
    cities: [
      {
        name: '石家庄市',
        postalCode: '050000',
        districts: [
          d('长安区', '130102'),
          d('桥西区', '130104'),
          d('新华区', '130105'),
          d('裕华区', '130108'),
        ],
      },
      { name: '唐山市', postalCode: '063000', districts: [d('路南区', '130202'), d('路北区', '130203')] },
    ],
  },
  {
    name: '辽宁省',
    code: '21',
    cities: [
      {
        name: '沈阳市',
        postalCode: '110000',
        districts: [
          d('和平区', '210102'),
          d('沈河区', '210103'),
          d('皇姑区', '210105'),
          d('铁西区', '210106'),
        ],
      },
      {
        name: '大连市',
        postalCode: '116000',
        districts: [
          d('中山区', '210202'),
          d('西岗区', '210203'),
          d('沙河口区', '210204'),
          d('甘井子区', '210211'),
        ],
      },
    ],
  },
  {
    name: '黑龙江省',
    code: '23',
    cities: [
      {
        name: '哈尔滨市',
        postalCode: '150000',
        districts: [
          d('道里区', '230102'),
          d('南岗区', '230103'),
          d('道外区', '230104'),
          d('香坊区', '230110'),
        ],
      },
      {
        name: '大庆市',
        postalCode: '163000',
        districts: [d('萨尔图区', '230602'), d('龙凤区', '230603'), d('让胡路区', '230604')],
      },
    ],
  },
  {
    name: '上海市',
    code: '31',
    cities: [
      {
        name: '上海市',
        postalCode: '200000',
        districts: [
          d('黄浦区', '310101'),
          d('徐汇区', '310104'),
          d('长宁区', '310105'),
          d('静安区', '310106'),
          d('闵行区', '310112'),
          d('浦东新区', '310115'),
        ],
      },
    ],
  },
  {
    name: '江苏省',
    code: '32',
    cities: [
      {
        name: '南京市',
        postalCode: '210000',
        districts: [
          d('玄武区', '320102'),
          d('秦淮区', '320104'),
          d('建邺区', '320105'),
          d('鼓楼区', '320106'),
        ],
      },
      {
        name: '无锡市',
        postalCode: '214000',
        districts: [d('滨湖区', '320211'), d('梁溪区', '320213'), d('新吴区', '320214')],
      },
      {
        name: '苏州市',
        postalCode: '215000',
        districts: [
          d('虎丘区', '320505'),
          d('吴中区', '320506'),
          d('相城区', '320507'),
          d('姑苏区', '320508'),
        ],
      },
    ],
  },
  {
    name: '浙江省',
    code: '33',
    cities: [
      {
        name: '杭州市',
        postalCode: '310000',
        districts: [
          d('上城区', '330102'),
          d('拱墅区', '330105'),
          d('西湖区', '330106'),
          d('滨江区', '330108'),
          d('余杭区', '330110'),
        ],
      },
      {
        name: '宁波市',
        postalCode: '315000',
        districts: [d('海曙区', '330203'), d('江北区', '330205'), d('鄞州区', '330212')],
      },
      {
        name: '温州市',
        postalCode: '325000',
        districts: [d('鹿城区', '330302'), d('龙湾区', '330303'), d('瓯海区', '330304')],
      },
    ],
  },
  {
    name: '安徽省',
    code: '34',
    cities: [
      {
        name: '合肥市',
        postalCode: '230000',
        districts: [
          d('瑶海区', '340102'),
          d('庐阳区', '340103'),
          d('蜀山区', '340104'),
          d('包河区', '340111'),
        ],
      },
      { name: '芜湖市', postalCode: '241000', districts: [d('镜湖区', '340202'), d('鸠江区', '340207')] },
    ],
  },
  {
    name: '福建省',
    code: '35',
    cities: [
      {
        name: '福州市',
        postalCode: '350000',
        districts: [d('鼓楼区', '350102'), d('台江区', '350103'), d('仓山区', '350104')],
      },
      {
        name: '厦门市',
        postalCode: '361000',
        districts: [d('思明区', '350203'), d('湖里区', '350206'), d('集美区', '350211')],
      },
    ],
  },
  {
    name: '江西省',
    code: '36',
    cities: [
      {
        name: '南昌市',
        postalCode: '330000',
        districts: [d('东湖区', '360102'), d('西湖区', '360103'), d('青山湖区', '360111')],
      },
      { name: '赣州市', postalCode: '341000', districts: [d('章贡区', '360702'), d('南康区', '360703')] },
    ],
  },
  {
    name: '山东省',
    code: '37',
    cities: [
      {
        name: '济南市',
        postalCode: '250000',
        districts: [
          d('历下区', '370102'),
          d('市中区', '370103'),
          d('槐荫区', '370104'),
          d('历城区', '370112'),
        ],
      },
      {
        name: '青岛市',
        postalCode: '266000',
        districts: [
          d('市南区', '370202'),
          d('市北区', '370203'),
          d('黄岛区', '370211'),
          d('崂山区', '370212'),
        ],
      },
    ],
  },
  {
    name: '河南省',
    code: '41',
    cities: [
      {
        name: '郑州市',
        postalCode: '450000',
        districts: [d('中原区', '410102'), d('二七区', '410103'), d('金水区', '410105')],
      },
      {
        name: '洛阳市',
        postalCode: '471000',
        districts: [d('老城区', '410302'), d('西工区', '410303'), d('涧西区', '410305')],
      },
    ],
  },
  {
    name: '湖北省',
    code: '42',
    cities: [
      {
        name: '武汉市',
        postalCode: '430000',
        districts: [
          d('江岸区', '420102'),
          d('江汉区', '420103'),
          d('武昌区', '420106'),
          d('洪山区', '420111'),
        ],
      },
      { name: '宜昌市', postalCode: '443000', districts: [d('西陵区', '420502'), d('伍家岗区', '420503')] },
    ],
  },
  {
    name: '湖南省',
    code: '43',
    cities: [
      {
        name: '长沙市',
        postalCode: '410000',
        districts: [
          d('芙蓉区', '430102'),
          d('天心区', '430103'),
          d('岳麓区', '430104'),
          d('开福区', '430105'),
          d('雨花区', '430111'),
        ],
      },
      {
        name: '株洲市',
        postalCode: '412000',
        districts: [d('荷塘区', '430202'), d('芦淞区', '430203'), d('天元区', '430211')],
      },
    ],
  },
  {
    name: '广东省',
    code: '44',
    cities: [
      {
        name: '广州市',
        postalCode: '510000',
        districts: [
          d('越秀区', '440104'),
          d('海珠区', '440105'),
          d('天河区', '440106'),
          d('白云区', '440111'),
        ],
      },
      {
        name: '深圳市',
        postalCode: '518000',
        districts: [
          d('罗湖区', '440303'),
          d('福田区', '440304'),
          d('南山区', '440305'),
          d('宝安区', '440306'),
        ],
      },
      {
        name: '佛山市',
        postalCode: '528000',
        districts: [d('禅城区', '440604'), d('南海区', '440605'), d('顺德区', '440606')],
      },
    ],
  },
  {
    name: '广西壮族自治区',
    code: '45',
    cities: [
      {
        name: '南宁市',
        postalCode: '530000',
        districts: [d('兴宁区', '450102'), d('青秀区', '450103'), d('西乡塘区', '450107')],
      },
      {
        name: '桂林市',
        postalCode: '541000',
        districts: [d('秀峰区', '450302'), d('叠彩区', '450303'), d('七星区', '450305')],
      },
    ],
  },
  {
    name: '重庆市',
    code: '50',
    cities: [
      {
        name: '重庆市',
        postalCode: '400000',
        districts: [
          d('渝中区', '500103'),
          d('江北区', '500105'),
          d('沙坪坝区', '500106'),
          d('渝北区', '500112'),
        ],
      },
    ],
  },
  {
    name: '四川省',
    code: '51',
    cities: [
      {
        name: '成都市',
        postalCode: '610000',
        districts: [
          d('锦江区', '510104'),
          d('青羊区', '510105'),
          d('武侯区', '510107'),
          d('成华区', '510108'),
        ],
      },
      { name: '绵阳市', postalCode: '621000', districts: [d('涪城区', '510703'), d('游仙区', '510704')] },
    ],
  },
  {
    name: '云南省',
    code: '53',
    cities: [
      {
        name: '昆明市',
        postalCode: '650000',
        districts: [
          d('五华区', '530102'),
          d('盘龙区', '530103'),
          d('官渡区', '530111'),
          d('西山区', '530112'),
        ],
      },
      { name: '大理白族自治州', postalCode: '671000', districts: [d('大理市', '532901')] },
    ],
  },
  {
    name: '陕西省',
    code: '61',
    cities: [
      {
        name: '西安市',
        postalCode: '710000',
        districts: [
          d('碑林区', '610103'),
          d('莲湖区', '610104'),
          d('未央区', '610112'),
          d('雁塔区', '610113'),
        ],
      },
      { name: '宝鸡市', postalCode: '721000', districts: [d('渭滨区', '610302'), d('金台区', '610303')] },
    ],
  },
];

/** A district with its city and province: one place a synthetic customer can live. */
export interface Place {
  readonly province: Province;
  readonly city: City;
  readonly district: District;
}

/**
 * Every district as a flat list, weighted so that each city (not each district) is about
 * equally likely and municipalities are not over-represented.
 */
export const PLACES: readonly Place[] = PROVINCES.flatMap((province) =>
  province.cities.flatMap((city) => {
    const weight = Math.max(1, Math.round(12 / city.districts.length));
    return city.districts.flatMap((district) =>
      Array.from({ length: weight }, () => ({ province, city, district })),
    );
  }),
);
