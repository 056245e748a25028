// Kinds only the Windows driver produces.
import { reserved, text, u32, u64 } from './define.js';
import { defineKind } from './kind.js';

export const imageLoad = defineKind({
  name: 'image-load',
  number: 5,
  struct: 'kmon_image_load',
  doc: 'Windows: an executable image (EXE or DLL) was mapped into a process.',
  fields: {
    /** Load address (user-mode images; 0 for system images). */
    imageBase: u64('image_base'),
    /** Bytes mapped. */
    imageSize: u64('image_size'),
    /** Image path as the kernel names it. */
    path: text('path_len'),
    _reserved0: reserved('reserved0', 'u16'),
    _reserved1: reserved('reserved1', 'u32'),
  },
});

export const registrySet = defineKind({
  name: 'registry-set',
  number: 6,
  struct: 'kmon_registry_set',
  doc: 'Windows: a registry value was written.',
  fields: {
    /** The value's type (REG_*). */
    valueType: u32('value_type'),
    /** Bytes of data written. */
    dataSize: u32('data_size'),
    /** Key path. */
    key: text('key_len'),
    /** Value name. */
    valueName: text('value_name_len'),
    _reserved: reserved('reserved', 'u32'),
  },
});
