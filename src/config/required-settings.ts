/**
 * The settings a run cannot do without. Apart from the schema so that the CLI's help names them without
 * loading the schema: the parent of a heap-capped run would otherwise hold zod for nothing.
 */
export const REQUIRED_SETTINGS = ['organization', 'list_api_name', 'segment_column', 'key_fields'] as const;
