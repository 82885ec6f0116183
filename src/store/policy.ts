/** Storage port for published privacy-policy versions. */
export interface PolicyVersionRecord {
  readonly number: number;
  readonly fingerprint: string;
  /** The policy scope as canonical JSON (see src/domain/policy/scope.ts). */
  readonly scope: string;
  readonly publishedAt: string;
  readonly requiresReconsent: boolean;
  readonly reconsentPurposes: readonly string[];
}

export interface PolicyRepository {
  insert(version: PolicyVersionRecord): Promise<void>;
  latest(): Promise<PolicyVersionRecord | undefined>;
  byNumber(number: number): Promise<PolicyVersionRecord | undefined>;
  list(): Promise<PolicyVersionRecord[]>;
}
