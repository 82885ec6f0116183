/**
 * The `custodian.yaml` that `custodian init` writes: a Tmall store's data map, documented inline.
 * Later features grow it; the purpose and collection names here are stable (issue 2, item 6).
 */
export interface TemplateOptions {
  readonly suite: 'aes-256-gcm' | 'sm4-gcm';
  readonly storeName: string;
}

export function configTemplate({ suite, storeName }: TemplateOptions): string {
  return `# Custodian configuration. Relative paths resolve against this file's folder.
# Secrets may come from the environment: write \${env:NAME} inside any string value.

server:
  host: 127.0.0.1
  port: 8080
  rateLimit:
    max: 600          # requests per client per window
    windowMs: 60000

# The embedded default. For PostgreSQL:
#   database:
#     engine: postgres
#     url: postgres://custodian:\${env:PGPASSWORD}@127.0.0.1:5432/custodian
database:
  engine: sqlite
  path: data/custodian.db

keys:
  # The root key wraps every customer's data key. It never enters the database.
  # A file (32 bytes, mode 0600) or a PKCS#11 token:
  #   root: { provider: pkcs11, library: /usr/lib/softhsm/libsofthsm2.so,
  #           tokenLabel: custodian, pin: \${env:CUSTODIAN_PKCS11_PIN}, keyLabel: custodian-root }
  root:
    provider: file
    path: keys/root.key
  # A separate root for blind indexes (searchable hashes of phones, emails, OAIDs).
  index:
    provider: file
    path: keys/index.key

crypto:
  # aes-256-gcm, or sm4-gcm (GB/T 32907, RFC 8998) for deployments that must use SM algorithms.
  suite: ${suite}

log:
  level: info

# The tamper-evident audit log (docs/audit-log.md). \`custodian log prune\` removes whole sealed
# segments only once every entry in them is past its retention. The defaults are the legal
# minimum and may only be made longer: 6 months for every entry (Cybersecurity Law Art. 21(3)),
# 3 years for exports and other provision or assessment records (NDSR Art. 12, PIPL Art. 56).
# Periods are written 184d, 6mo or 3y:
#   audit:
#     retention:
#       entries: 6mo
#       sharing: 3y

# The customers' privacy centre at /privacy (docs/privacy-centre.md): policy, notices, and after
# sign-in by one-time code their consents, receipts and requests. Codes go out through
# codeChannel: \`log\` writes them to this server's debug log (development only: nobody else
# receives them); production uses \`deliver\`: email through notify.smtp, text messages to phones
# through sms (Alibaba Cloud SMS). \`smtp\`, the earlier name of \`deliver\`, still works. The SMS
# provider receives customers' phone numbers, so sms.recipient must name its datamap.recipients
# entry, a processor that lists contact.phone (R6, R13; see aliyun-sms at the end of this file):
#   privacyCentre:
#     codeChannel: deliver
#     codeTtlMinutes: 10
#     sendsPerWindow: 3          # codes per phone or email per window
#     sendWindowMinutes: 15
#     sessionMinutes: 60
#     sms:
#       provider: aliyun
#       accessKeyId: \${env:ALIYUN_SMS_ACCESS_KEY_ID}
#       accessKeySecret: \${env:ALIYUN_SMS_ACCESS_KEY_SECRET}
#       signName: 示例商店            # the approved signature (签名名称)
#       templateCode: SMS_123456789  # an approved verification-code template with the variable code;
#                                    # the validity its text states must match codeTtlMinutes
#       recipient: aliyun-sms        # its datamap.recipients entry (R6, R13)
#   notify:
#     smtp:
#       host: smtp.example.com
#       port: 587
#       from: privacy@example.com
#       user: privacy@example.com
#       password: \${env:SMTP_PASSWORD}
#       to: [dpo@example.com]        # security alerts

# Tmall / Taobao Open Platform (docs/tmall.md). Only TOP calls (order sync, OAID decryption) need
# this; importing an order export does not. Secrets come from the environment:
#   tmall:
#     gateway: https://gw.api.taobao.com/router/rest
#     appKey: '12345678'
#     appSecret: \${env:TMALL_APP_SECRET}
#     signMethod: hmac-sha256       # md5 | hmac | hmac-sha256
#     session: \${env:TMALL_SESSION}
#     scenes: { '2002': customer-service }   # decryption scene → the purpose it serves (R30)

# The data map: what this store collects, why, on which legal basis, for how long and who
# receives it. Collection refuses any field that is not declared here, and a record collected for
# a purpose may carry only the fields that purpose needs. Check it with: custodian datamap lint
datamap:
  processor:
    name: ${storeName}
    contact: privacy@example.com
  officer:
    name: 个人信息保护负责人 (PI protection officer)
    contact: dpo@example.com

  purposes:
    - id: order-fulfilment
      name: { zh-CN: 订单履行与配送, en: Order fulfilment and delivery }
      description:
        zh-CN: 为完成您在天猫店铺的订单，向承运商提供收货人、电话和地址。
        en: To ship your Tmall order we give the carrier the recipient, phone and address.
      legalBasis: contract        # PIPL Art. 13(2): necessary to perform the sales contract
      necessary: true
    - id: customer-service
      name: { zh-CN: 售后与客户服务, en: After-sales and customer service }
      description:
        zh-CN: 处理退换货、咨询和投诉。
        en: To handle returns, questions and complaints.
      legalBasis: contract
      necessary: true
    - id: customs-clearance
      name: { zh-CN: 跨境商品清关, en: Customs clearance for cross-border orders }
      description:
        zh-CN: 跨境进口商品须按海关规定申报订购人实名和身份证号。
        en: Cross-border imports must declare the buyer's real name and ID number to customs.
      legalBasis: legal_obligation  # PIPL Art. 13(3)
      necessary: true
      crossBorder: false            # the declaration goes to China Customs, inside the mainland
    - id: marketing
      name: { zh-CN: 会员营销, en: Member marketing }
      description:
        zh-CN: 经您同意，向您发送优惠和新品信息；您可以随时撤回同意。
        en: With your consent, we send offers and new products; you can withdraw at any time.
      legalBasis: consent           # PIPL Art. 13(1); never required for the order (Art. 16)
      necessary: false

  # Each collection lists its fields: category (the built-in taxonomy), protection (encrypt, the
  # default; blind-index; or plain, only for data that is not about a person), the purposes that
  # need the field with the view each gets (clear or masked), and how long it is kept.
  # minimise: refuse (the default) refuses a record carrying fields its purpose does not need;
  # minimise: strip drops those fields and reports them in the response.
  collections:
    profile:
      description: The customer's own account details.
      fields:
        name:
          category: identity.name
          purposes: { customer-service: masked, marketing: masked }
          retention: { keep: 3y, from: last-activity }
        phone:
          category: contact.phone
          identity: phone             # searchable by blind index
          purposes: { customer-service: masked, marketing: masked }
          retention: { keep: 3y, from: last-activity }
        email:
          category: contact.email
          identity: email
          purposes: { customer-service: masked, marketing: masked }
          retention: { keep: 3y, from: last-activity }
        birthDate:
          category: identity.birth-date
          purposes: { marketing: masked }
          retention: { keep: 3y, from: last-activity }

    address:
      description: Delivery addresses from orders.
      fields:
        recipientName:
          category: identity.name
          purposes: { order-fulfilment: clear, customer-service: masked }
          retention: { keep: 3y, from: last-activity }
        phone:
          category: contact.phone
          identity: phone
          purposes: { order-fulfilment: clear, customer-service: masked }
          retention: { keep: 3y, from: last-activity }
        province:
          category: location.region
          purposes: { order-fulfilment: clear, customer-service: clear }
          retention: { keep: 3y, from: last-activity }
        city:
          category: location.region
          purposes: { order-fulfilment: clear, customer-service: clear }
          retention: { keep: 3y, from: last-activity }
        district:
          category: location.region
          purposes: { order-fulfilment: clear, customer-service: clear }
          retention: { keep: 3y, from: last-activity }
        street:
          category: location.street
          purposes: { order-fulfilment: clear, customer-service: masked }
          retention: { keep: 3y, from: last-activity }
        privacyNumber:
          category: contact.phone       # a Taobao privacy number (18877771111-123): never indexed as the buyer's phone
          description: The platform's virtual number that forwards to the buyer while its binding lasts.
          purposes: { order-fulfilment: clear, customer-service: masked }
          retention: { keep: 3m, from: collection }

    order:
      description: Orders; the E-Commerce Law keeps transaction records for three years.
      fields:
        orderId:
          category: order.reference
          protection: plain
          purposes: { order-fulfilment: clear, customer-service: clear }
          retention: { keep: 3y, from: purpose-fulfilled }
        amount:
          category: order.detail
          protection: plain
          purposes: { order-fulfilment: clear, customer-service: clear }
          retention: { keep: 3y, from: purpose-fulfilled }
        status:
          category: order.detail
          protection: plain
          purposes: { order-fulfilment: clear, customer-service: clear }
          retention: { keep: 3y, from: purpose-fulfilled }
        buyerMessage:
          category: content.message     # free text: may hold PI the buyer typed
          freeText: { pii: mask }       # phone numbers, ids, cards or emails in it are masked before storing
          purposes: { order-fulfilment: masked, customer-service: masked }
          retention: { keep: 1y, from: purpose-fulfilled }
        buyerNick:
          category: identity.platform-id  # the Taobao nick: encrypted, never a lookup key (R30)
          purposes: { order-fulfilment: masked, customer-service: clear }
          retention: { keep: 3y, from: purpose-fulfilled }
        createdAt:
          category: order.detail
          protection: plain
          purposes: { order-fulfilment: clear, customer-service: clear }
          retention: { keep: 3y, from: purpose-fulfilled }
        paidAt:
          category: order.detail
          protection: plain
          purposes: { order-fulfilment: clear, customer-service: clear }
          retention: { keep: 3y, from: purpose-fulfilled }
        itemTitle:
          category: order.detail
          protection: plain
          purposes: { order-fulfilment: clear, customer-service: clear }
          retention: { keep: 3y, from: purpose-fulfilled }

    customs:
      description: Identity for customs declarations of cross-border orders only.
      fields:
        realName:
          category: identity.real-name
          purposes: { customs-clearance: clear }
          retention: { keep: 3y, from: purpose-fulfilled }
        nationalId:
          category: identity.national-id
          sensitivity: sensitive        # PIPL Art. 28
          description: >-
            Customs requires the buyer's ID number for every cross-border import declaration; without
            it the parcel cannot clear customs. A leaked ID number can be misused to impersonate the buyer.
          purposes: { customs-clearance: clear }
          retention: { keep: 3y, from: purpose-fulfilled }

  # Who receives PI: processors (受托人) that act on our instructions under a contract (PIPL Art. 21),
  # third parties that decide their own purposes (Art. 23: separate consent where the basis is
  # consent), joint controllers (Art. 20). country is ISO 3166 (default CN); a recipient abroad
  # (Hong Kong, Macao and Taiwan included) is cross-border and needs cross_border consent (Art. 39).
  recipients:
    - id: sf-express
      name: { zh-CN: 顺丰速运, en: SF Express }
      contact: '95338'                # customer service hotline
      role: processor
      purposes: [order-fulfilment]
      categories: [identity.name, contact.phone, location.region, location.street]
      description:
        zh-CN: 承运商，按委托处理协议仅为配送您的订单使用收货信息。
        en: The carrier; under our entrustment contract it uses the delivery details only to deliver your order.
    - id: china-customs
      name: { zh-CN: 中华人民共和国海关, en: China Customs }
      contact: '12360'                # customs hotline
      role: third-party
      purposes: [customs-clearance]
      categories: [identity.real-name, identity.national-id]
      legalBasis: legal_obligation  # cross-border e-commerce import declarations
    # With privacyCentre.sms the SMS provider receives phone numbers to deliver sign-in codes:
    # declare it so the policy lists it (R6), as a processor under an entrustment contract (R13):
    # - id: aliyun-sms
    #   name: { zh-CN: 阿里云短信服务, en: Alibaba Cloud SMS }
    #   contact: '95187'              # Alibaba Cloud customer service
    #   role: processor
    #   purposes: [customer-service]
    #   categories: [contact.phone]
    #   description:
    #     zh-CN: 短信服务商，按委托处理协议仅为向您发送隐私中心登录验证码而使用您的手机号。
    #     en: The SMS provider; under our entrustment contract it uses your phone number only to send privacy-centre sign-in codes.
`;
}
