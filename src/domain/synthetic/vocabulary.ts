/**
 * Word lists for synthetic customers and orders: surnames and given-name characters with their
 * pinyin, street and estate names, shop-item titles and buyer messages. Brand names are
 * invented. None of this describes a real person.
 */

/** `[character(s), pinyin, relative frequency]`. Frequencies roughly follow published surname rankings. */
type Weighted = readonly [string, string, number];

const SINGLE_SURNAMES: readonly Weighted[] = [
  ['王', 'wang', 72],
  ['李', 'li', 71],
  ['张', 'zhang', 68],
  ['刘', 'liu', 53],
  ['陈', 'chen', 45],
  ['杨', 'yang', 31],
  ['黄', 'huang', 22],
  ['赵', 'zhao', 20],
  ['吴', 'wu', 19],
  ['周', 'zhou', 18],
  ['徐', 'xu', 13],
  ['孙', 'sun', 12],
  ['马', 'ma', 12],
  ['朱', 'zhu', 11],
  ['胡', 'hu', 10],
  ['郭', 'guo', 10],
  ['何', 'he', 9],
  ['林', 'lin', 9],
  ['高', 'gao', 9],
  ['罗', 'luo', 8],
  ['郑', 'zheng', 8],
  ['梁', 'liang', 7],
  ['谢', 'xie', 6],
  ['宋', 'song', 6],
  ['唐', 'tang', 6],
  ['许', 'xu', 5],
  ['韩', 'han', 5],
  ['冯', 'feng', 5],
  ['邓', 'deng', 5],
  ['曹', 'cao', 5],
  ['彭', 'peng', 4],
  ['曾', 'zeng', 4],
  ['肖', 'xiao', 4],
  ['田', 'tian', 4],
  ['董', 'dong', 4],
  ['袁', 'yuan', 4],
  ['潘', 'pan', 4],
  ['于', 'yu', 4],
  ['蒋', 'jiang', 4],
  ['蔡', 'cai', 4],
  ['余', 'yu', 4],
  ['杜', 'du', 3],
  ['叶', 'ye', 3],
  ['程', 'cheng', 3],
  ['苏', 'su', 3],
  ['魏', 'wei', 3],
  ['吕', 'lv', 3],
  ['丁', 'ding', 3],
  ['任', 'ren', 3],
  ['沈', 'shen', 3],
  ['姚', 'yao', 3],
  ['卢', 'lu', 3],
  ['姜', 'jiang', 3],
  ['崔', 'cui', 3],
  ['钟', 'zhong', 3],
  ['谭', 'tan', 3],
  ['陆', 'lu', 3],
  ['汪', 'wang', 3],
  ['范', 'fan', 3],
  ['金', 'jin', 3],
  ['石', 'shi', 2],
  ['廖', 'liao', 2],
  ['贾', 'jia', 2],
  ['夏', 'xia', 2],
  ['韦', 'wei', 2],
  ['方', 'fang', 2],
  ['白', 'bai', 2],
  ['邹', 'zou', 2],
  ['孟', 'meng', 2],
  ['熊', 'xiong', 2],
  ['秦', 'qin', 2],
  ['邱', 'qiu', 2],
  ['江', 'jiang', 2],
  ['尹', 'yin', 2],
  ['薛', 'xue', 2],
  ['段', 'duan', 2],
  ['雷', 'lei', 2],
  ['侯', 'hou', 2],
  ['龙', 'long', 2],
  ['史', 'shi', 2],
  ['陶', 'tao', 2],
  ['黎', 'li', 2],
  ['贺', 'he', 2],
  ['顾', 'gu', 2],
  ['毛', 'mao', 2],
  ['郝', 'hao', 2],
  ['龚', 'gong', 2],
  ['邵', 'shao', 2],
  ['万', 'wan', 2],
  ['钱', 'qian', 2],
  ['严', 'yan', 2],
  ['武', 'wu', 2],
  ['戴', 'dai', 2],
  ['孔', 'kong', 1],
  ['汤', 'tang', 1],
];

/** Two-character surnames; together about 1% of synthetic customers. */
const COMPOUND_SURNAMES: readonly Weighted[] = [
  ['欧阳', 'ouyang', 2],
  ['司马', 'sima', 1],
  ['上官', 'shangguan', 1],
  ['诸葛', 'zhuge', 1],
  ['东方', 'dongfang', 1],
  ['皇甫', 'huangfu', 1],
  ['慕容', 'murong', 1],
  ['令狐', 'linghu', 1],
  ['司徒', 'situ', 1],
  ['夏侯', 'xiahou', 1],
];

export interface Syllable {
  readonly han: string;
  readonly pinyin: string;
}

function expand(list: readonly Weighted[]): Syllable[] {
  return list.flatMap(([han, pinyin, weight]) => Array.from({ length: weight }, () => ({ han, pinyin })));
}

/** Surnames repeated by frequency, so a uniform pick follows the frequencies. */
export const SURNAMES: readonly Syllable[] = [...expand(SINGLE_SURNAMES), ...expand(COMPOUND_SURNAMES)];

function syllables(text: string): Syllable[] {
  return text.split(' ').map((pair) => {
    const [han, pinyin] = pair.split(':');
    return { han: han!, pinyin: pinyin! };
  });
}

export const MALE_GIVEN: readonly Syllable[] = syllables(
  '伟:wei 强:qiang 磊:lei 军:jun 勇:yong 杰:jie 涛:tao 明:ming 超:chao 辉:hui 华:hua 鹏:peng 飞:fei 斌:bin ' +
    '宇:yu 浩:hao 凯:kai 健:jian 俊:jun 帆:fan 旭:xu 宁:ning 龙:long 林:lin 洋:yang 博:bo 文:wen 志:zhi ' +
    '建:jian 国:guo 峰:feng 鑫:xin 晨:chen 睿:rui 轩:xuan 泽:ze 昊:hao 子:zi 一:yi 天:tian 宏:hong 毅:yi ' +
    '诚:cheng 嘉:jia 铭:ming 航:hang 逸:yi 然:ran 景:jing 致:zhi 瑞:rui 安:an 卓:zhuo 远:yuan',
);

export const FEMALE_GIVEN: readonly Syllable[] = syllables(
  '芳:fang 娜:na 敏:min 静:jing 丽:li 艳:yan 娟:juan 霞:xia 秀:xiu 玲:ling 英:ying 婷:ting 雪:xue 慧:hui ' +
    '颖:ying 琳:lin 晶:jing 欣:xin 怡:yi 佳:jia 倩:qian 悦:yue 瑶:yao 萱:xuan 梓:zi 涵:han 诗:shi 雨:yu ' +
    '思:si 梦:meng 月:yue 萌:meng 妍:yan 琪:qi 蕾:lei 璐:lu 薇:wei 晓:xiao 紫:zi 彤:tong 可:ke 欢:huan ' +
    '宁:ning 清:qing 婉:wan 若:ruo 安:an 晴:qing',
);

/** Road names common to many Chinese cities. */
export const ROADS: readonly string[] = [
  '文三路',
  '中山路',
  '人民路',
  '解放路',
  '建设路',
  '和平路',
  '新华路',
  '长江路',
  '黄河路',
  '文化路',
  '学府路',
  '滨江大道',
  '胜利街',
  '东风路',
  '青年路',
  '北京路',
  '朝阳路',
  '幸福路',
  '光明街',
  '延安路',
  '迎宾大道',
  '科技路',
  '创业大道',
  '天目山路',
  '体育场路',
  '花园街',
];

export const ESTATE_PREFIXES: readonly string[] = [
  '阳光',
  '锦绣',
  '金色',
  '翠苑',
  '香樟',
  '绿城',
  '万家',
  '碧水',
  '枫林',
  '御景',
  '桃源',
  '世纪',
];
export const ESTATE_SUFFIXES: readonly string[] = [
  '花园',
  '家园',
  '小区',
  '新村',
  '公寓',
  '名苑',
  '华府',
  '雅苑',
];

/** Email domains, repeated by rough popularity. */
export const EMAIL_DOMAINS: readonly string[] = [
  ...Array<string>(5).fill('qq.com'),
  ...Array<string>(4).fill('163.com'),
  ...Array<string>(2).fill('126.com'),
  ...Array<string>(2).fill('gmail.com'),
  ...Array<string>(2).fill('outlook.com'),
  ...Array<string>(2).fill('foxmail.com'),
  'sina.com',
];

/**
 * Mainland mobile prefixes in use (regulation.md §9.1): 130–139, 147, 150–153, 155–159, 162,
 * 165–167, 170–178 minus 174, 180–189, 190–193, 195–199. 174 (satellite) and 154 are left out.
 */
export const MOBILE_PREFIXES: readonly string[] = [
  ...numbers(130, 139),
  '147',
  ...numbers(150, 153),
  ...numbers(155, 159),
  '162',
  ...numbers(165, 167),
  ...numbers(170, 173),
  ...numbers(175, 178),
  ...numbers(180, 189),
  ...numbers(190, 193),
  ...numbers(195, 199),
];

function numbers(from: number, to: number): string[] {
  const out: string[] = [];
  for (let i = from; i <= to; i++) out.push(String(i));
  return out;
}

/** UnionPay-style issuer prefixes (62…) for synthetic bank cards. */
export const CARD_IINS: readonly string[] = [
  '622202',
  '621700',
  '622848',
  '621661',
  '622588',
  '622262',
  '621483',
  '623058',
];

/** Invented shop brands. */
export const BRANDS: readonly string[] = [
  '山野集',
  '素白',
  '木子良品',
  '悦享家',
  '简朴生活',
  '北纬三十度',
  '禾风',
  '青木堂',
  '小鹿日记',
  '拾光',
  '云朵工坊',
  '南山茶舍',
];

export const TITLE_TAGS: readonly string[] = [
  '【官方旗舰】',
  '【顺丰包邮】',
  '【限时折扣】',
  '【新品首发】',
  '',
  '',
  '',
  '',
];

/** `[product, lowest price, highest price]` in yuan. */
export const PRODUCTS: readonly (readonly [string, number, number])[] = [
  ['纯棉短袖T恤男夏季宽松百搭', 39, 129],
  ['连衣裙女新款法式收腰显瘦', 159, 499],
  ['316不锈钢保温杯大容量', 49, 199],
  ['无线蓝牙耳机降噪运动款', 99, 599],
  ['硅胶手机壳防摔全包', 19, 59],
  ['护手霜滋润保湿套装', 29, 89],
  ['西湖龙井明前特级绿茶250g', 198, 888],
  ['每日坚果混合果仁礼盒30袋', 79, 169],
  ['乳胶枕头护颈椎单人', 89, 299],
  ['儿童绘本早教启蒙全套', 49, 199],
  ['电动牙刷成人声波充电式', 129, 399],
  ['羽绒服女中长款白鸭绒加厚', 399, 1299],
  ['全价猫粮成猫幼猫通用10kg', 129, 359],
  ['洗衣凝珠持久留香52颗', 39, 79],
  ['空气炸锅家用多功能5L', 199, 499],
  ['瑜伽垫加厚防滑健身垫', 39, 129],
  ['跑步鞋男轻便透气运动鞋', 199, 699],
  ['五常稻花香大米10斤', 59, 129],
  ['机械键盘有线青轴电竞', 149, 499],
  ['纯棉四件套床上用品1.8m', 199, 599],
  ['哑光口红正红色持久', 89, 320],
  ['广式月饼礼盒多口味', 68, 268],
  ['婴儿纸尿裤L码100片', 99, 199],
  ['干红葡萄酒整箱6支装', 199, 999],
];

/** Buyer messages with no personal information. */
export const PLAIN_MESSAGES: readonly string[] = [
  '请尽快发货，谢谢',
  '麻烦帮忙检查一下再发，谢谢！',
  '不要放快递柜，直接送货上门',
  '周末不在家，请工作日派送',
  '是送人的礼物，不要放发票和价格单',
  '颜色要黑色的，尺码L',
  '请发顺丰，邮费可以补',
  '包装好一点，易碎品',
  '可以开发票吗？抬头稍后发给客服',
  '放门卫室就行',
  '能不能今天发出？急用',
  '送货前先打电话',
  '帮我多放两个赠品呗',
  '不要辣的口味',
  '请用纸箱包装，不要塑料袋',
  '麻烦备注一下生日快乐',
  '地址是公司，下午六点前送达',
  '上次买的很好用，回购',
  '尺码偏小的话换大一码',
  '请放菜鸟驿站',
];

/** Buyer messages that mention an already-masked value: no recoverable personal information. */
export const MASKED_MESSAGES: readonly string[] = [
  '页面显示的电话{masked}是对的，直接联系就行',
  '收件电话{masked}没错',
];

/** Templates that embed a mobile number. */
export const MOBILE_MESSAGES: readonly string[] = [
  '请放快递柜，电话{v}',
  '到了打我电话 {v}，不在家请放门卫',
  '收件人电话改成{v}，谢谢',
  '联系电话：{v}（工作日白天）',
  '快递员到了请拨{v}',
];

export const VIRTUAL_MESSAGES: readonly string[] = ['系统显示的号码是{v}，打不通请留言'];

export const ID_MESSAGES: readonly string[] = [
  '跨境商品清关用，身份证号{v}',
  '清关需要实名：身份证 {v}，谢谢',
];

export const EMAIL_MESSAGES: readonly string[] = ['电子发票请发到邮箱 {v}', '发票发我邮箱{v}，谢谢'];

export const CARD_MESSAGES: readonly string[] = ['差价请退到我的银行卡{v}'];

export const NICK_WORDS: readonly string[] = ['爱吃', '喜欢', '今天也想', '不想上班的', '会飞的', '快乐的'];
export const NICK_NOUNS: readonly string[] = ['小猫', '橘子', '兔子', '西瓜', '咸鱼', '熊猫', '芒果', '星星'];
