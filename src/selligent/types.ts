/** Shapes of the Selligent V1 resources the exporter reads and writes (snake_case, as on the wire). */

export interface Envelope {
  result_code?: string;
  message?: string;
  errors?: Array<{ error_code?: string; description?: string }> | null;
}

export interface ListInfo {
  api_name: string;
  name?: string;
  type?: string;
  description?: string;
}

export interface FieldDefinition {
  name: string;
  data_type: string;
  length?: number;
  allow_null?: boolean;
  description?: string;
}

export interface SegmentSummary {
  api_name: string;
  segment_type?: string;
}

export interface SegmentInfo {
  api_name: string;
  type?: string;
  name?: string;
  description?: string;
}

export interface LoadQuery {
  keyFields: string[];
  fields: string[];
  mode: string;
  deduplication: string;
  errorHandling: string;
  /** List loads only. */
  dataImportOption?: string;
}

export interface InvalidRecord {
  record_index: number;
  field_name?: string | null;
  message?: string;
  validation_code?: string;
}

export interface LoadResult extends Envelope {
  number_of_inserted_records?: number;
  number_of_updated_records?: number;
  number_of_failed_records?: number;
  number_of_duplicate_records?: number;
  number_of_records_not_found?: number;
  number_of_deleted_records?: number;
  invalid_records?: InvalidRecord[] | null;
}

/** A load answer, and whether an earlier attempt of the same request may have been applied unseen. */
export interface LoadAnswer {
  result: LoadResult;
  uncertain: boolean;
  /** How long the service took to answer (the last attempt only). */
  attemptMs: number;
}
