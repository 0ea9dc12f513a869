/** Published diagnosis keys as the rest of the host tools see them (one shape for every source). */

export enum ReportType {
  Unknown = 0,
  ConfirmedTest = 1,
  ClinicalDiagnosis = 2,
  SelfReport = 3,
  Recursive = 4,
  Revoked = 5
}

export interface ExposureKey {
  /** 16 bytes. */
  keyData: Uint8Array;
  rollingStartIntervalNumber: number;
  /** Intervals the key was valid for (default 144). */
  rollingPeriod: number;
  transmissionRiskLevel?: number;
  reportType?: ReportType;
  daysSinceOnsetOfSymptoms?: number;
  variantOfConcern?: number;
}

export interface SignatureInfo {
  verificationKeyVersion?: string;
  verificationKeyId?: string;
  signatureAlgorithm?: string;
}

/** A parsed `export.bin` (TemporaryExposureKeyExport). */
export interface KeyExport {
  startTimestamp: number;
  endTimestamp: number;
  region: string;
  batchNum: number;
  batchSize: number;
  signatureInfos: SignatureInfo[];
  keys: ExposureKey[];
  revisedKeys: ExposureKey[];
}
