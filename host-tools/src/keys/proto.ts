import * as protobuf from "protobufjs";

/**
 * The GAEN export schema (proto2), as published in Google's exposure
 * notification server. Kept in code so no .proto file has to be found at run
 * time. Deviations, on purpose:
 * - `report_type` is read as int32, not an enum: a closed proto2 enum would
 *   silently drop values it does not know, and we want to reject them by name.
 * - SignatureInfo fields 1 and 2 (old app bundle ids) are `reserved`; old files
 *   still carry them and protobufjs skips them as unknown fields.
 */
const SCHEMA = `
syntax = "proto2";
message SignatureInfo {
  reserved 1, 2;
  optional string verification_key_version = 3;
  optional string verification_key_id = 4;
  optional string signature_algorithm = 5;
}
message TemporaryExposureKey {
  optional bytes key_data = 1;
  optional int32 transmission_risk_level = 2;
  optional int32 rolling_start_interval_number = 3;
  optional int32 rolling_period = 4 [default = 144];
  optional int32 report_type = 5;
  optional sint32 days_since_onset_of_symptoms = 6;
  optional int32 variant_of_concern = 8;
}
message TemporaryExposureKeyExport {
  optional fixed64 start_timestamp = 1;
  optional fixed64 end_timestamp = 2;
  optional string region = 3;
  optional int32 batch_num = 4;
  optional int32 batch_size = 5;
  repeated SignatureInfo signature_infos = 6;
  repeated TemporaryExposureKey keys = 7;
  repeated TemporaryExposureKey revised_keys = 8;
}
message TEKSignature {
  optional SignatureInfo signature_info = 1;
  optional int32 batch_num = 2;
  optional int32 batch_size = 3;
  optional bytes signature = 4;
}
message TEKSignatureList {
  repeated TEKSignature signatures = 1;
}
`;

const root = protobuf.parse(SCHEMA, { keepCase: true }).root;

export const ExportMessage = root.lookupType("TemporaryExposureKeyExport");
export const SignatureListMessage = root.lookupType("TEKSignatureList");

/** Wire shapes as protobufjs decodes them (keepCase: snake_case names). */
export interface WireSignatureInfo {
  verification_key_version?: string;
  verification_key_id?: string;
  signature_algorithm?: string;
}

export interface WireKey {
  key_data?: Uint8Array;
  transmission_risk_level?: number;
  rolling_start_interval_number?: number;
  rolling_period?: number;
  report_type?: number;
  days_since_onset_of_symptoms?: number;
  variant_of_concern?: number;
}

/** fixed64 arrives as a Long (the `long` package is installed) or a number. */
export type WireLong = number | { toNumber(): number; high: number; low: number; unsigned?: boolean };

export interface WireExport {
  start_timestamp?: WireLong;
  end_timestamp?: WireLong;
  region?: string;
  batch_num?: number;
  batch_size?: number;
  signature_infos?: WireSignatureInfo[];
  keys?: WireKey[];
  revised_keys?: WireKey[];
}

export interface WireSignature {
  signature_info?: WireSignatureInfo;
  batch_num?: number;
  batch_size?: number;
  signature?: Uint8Array;
}

export interface WireSignatureList {
  signatures?: WireSignature[];
}
