// The shapes of the site's data files (written by generator/site/*.py) and the globals the scripts share,
// for the type checks of the browser code in static/ (tsconfig.json). Not part of the Python package.

/** One of the map's pictures (a tile, an atlas sheet, a thumbnail): static/map/data.js loadPicture. */
interface SiteMapPicture {
  /** decoded, ready to draw */
  ready: boolean;
  failed: boolean;
  /** what a canvas draws: the decoded bitmap, or the picture itself where it could not be decoded first */
  image: ImageBitmap | HTMLImageElement | null;
  width: number;
  height: number;
  /** the last frame that drew it */
  used: number;
  tex?: WebGLTexture | null;
}

/** One facet of the map's items (generator/site/mapdata.py facet_dictionary). */
interface SiteMapFacet {
  name: string;
  title: string;
  wide: boolean;
  values: string[];
  labels: string[];
  counts: number[];
}

/** One size of the map's atlas sheets (generator/pipeline/atlas.py). */
interface SiteAtlas {
  files: string[];
  cell: number;
  per_row: number;
  per_sheet: number;
  /** detail level: the first point of each sheet (one sheet per tile of the map) */
  starts?: number[];
}

/** The labels of an arrangement's groups (generator/site/maplayouts.py). */
interface SiteMapGroups {
  kind: string;
  labels: string[];
  x: number[];
  y: number[];
  extent?: number[];
  cell?: number;
}

/** An arrangement of the map offered on the page. */
interface SiteMapLayout {
  name: string;
  file?: string;
  groups?: SiteMapGroups;
}

/** data/map/meta.js */
interface SiteMapMeta {
  count: number;
  quant: number;
  chunks: number;
  chunk_size: number;
  label_chunk_size: number;
  facets: SiteMapFacet[];
  atlas: SiteAtlas[];
  layouts?: SiteMapLayout[];
  clusters?: SiteMapGroups;
  no_thumb?: number[];
  /** a map too large to load whole: its picture tiles (generator/pipeline/maptiles.py) */
  tiles?: {levels: number, tile_px: number, item_px: number, present: string[]};
  pages: Object<string, string>;
  thumbs: Object<string, string>;
  /** for each value of the artist column, what its artworks' ids begin with (not written in the labels files) */
  artwork_id_prefix: string[];
}

type Object<K extends string, V> = Record<K, V>;

interface Window {
  SITEGEN_MAP?: SiteMapMeta;
  SITEGEN_MAP_POINTS?: Record<number, string>;
  SITEGEN_MAP_LABELS?: Record<number, {ids: string[], labels: (string | string[] | null)[]}>;
  SITEGEN_MAP_LAYOUTS?: Record<string, string>;
  SITEGEN_MAP_API?: Record<string, unknown>;
  SITEGEN_FIRST_FRAME_MS?: number;
  SITEGEN_SEARCH?: Record<string, Record<string, number[]>>;
  SITEGEN_SEARCH_DOCS?: Record<number, {artists: string[][], docs: Array<Array<string | number>>}>;
  SITEGEN_SEARCH_META?: {docs: number, doc_chunk: number, shards: string[], countries: Record<string, string>, drawings: string, artworks: string};
  SITEGEN_RELATED?: Record<string, any>;
  SITEGEN_DISCOVERIES?: {page_size?: number, columns: string[], rows: Array<Array<string | number>>, filters: Record<string, Array<[string, string, number]>>};
  SITEGEN_CARDS?: (scope: ParentNode) => void;
  SitegenResize?: any;
}

/** WebGPU, where the browser has it (the find page asks for an adapter). */
interface Navigator {
  gpu?: {requestAdapter(): Promise<unknown>};
}

/** The resizing of static/find-resize.js (window.SitegenResize). */
declare var SitegenResize: any;

