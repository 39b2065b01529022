/**
 * The grid map's geometry, without a map library: each grid's own outline (a GeoJSON Polygon, longitude and
 * latitude or a schematic plane) projected to the SVG's plane and written as a path; grids without an outline
 * get a schematic box (nested boxes, each parent with a band for its label above its children) in a strip
 * below, so every grid is on the map and can be reached.
 */

export interface Polygon {
  type: 'Polygon'
  coordinates: number[][][]
}

export interface MapGrid {
  id: number
  name: string
  parent_id: number | null
  depth: number
  outline: Polygon | null
}

export interface Shape {
  id: number
  /** The SVG path (every ring; even-odd filling keeps holes). */
  d: string
  /** Where its label goes (top-left of the label box). */
  labelX: number
  labelY: number
  /** Whether the label sits at the shape's middle (a grid with nothing drawn inside it). */
  centred: boolean
  depth: number
}

export interface MapLayout {
  width: number
  height: number
  shapes: Shape[]
}

export const MAP_WIDTH = 900
const PAD = 12
const BAND = 40
const LEAF_HEIGHT = 120
const LEAF_MIN_WIDTH = 170

/** A polygon as the API may send it (anything else: no outline). */
export function asPolygon(value: unknown): Polygon | null {
  const v = value as Polygon | null | undefined
  if (!v || v.type !== 'Polygon' || !Array.isArray(v.coordinates) || !v.coordinates.length) return null
  const ok = v.coordinates.every((ring) => Array.isArray(ring) && ring.length >= 3
    && ring.every((p) => Array.isArray(p) && p.length >= 2 && Number.isFinite(p[0]) && Number.isFinite(p[1])))
  return ok ? v : null
}

interface Box { x: number; y: number; w: number; h: number }

function bounds(points: number[][]): Box {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity
  for (const [x, y] of points) {
    minX = Math.min(minX, x); maxX = Math.max(maxX, x)
    minY = Math.min(minY, y); maxY = Math.max(maxY, y)
  }
  return { x: minX, y: minY, w: maxX - minX, h: maxY - minY }
}

/** The area-weighted centre of a ring (its bounding box's middle when the ring has no area). */
function centroid(ring: number[][]): [number, number] {
  let area = 0, cx = 0, cy = 0
  for (let i = 0; i < ring.length; i += 1) {
    const [x0, y0] = ring[i]
    const [x1, y1] = ring[(i + 1) % ring.length]
    const cross = x0 * y1 - x1 * y0
    area += cross
    cx += (x0 + x1) * cross
    cy += (y0 + y1) * cross
  }
  if (Math.abs(area) < 1e-12) {
    const b = bounds(ring)
    return [b.x + b.w / 2, b.y + b.h / 2]
  }
  return [cx / (3 * area), cy / (3 * area)]
}

function pathOf(rings: number[][][]): string {
  return rings.map((ring) => 'M' + ring.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join('L') + 'Z').join('')
}

/** Outlined grids: projected (north up; longitudes shrunk by the latitude's cosine for real places). */
function projectOutlines(grids: MapGrid[], width: number): { shapes: Shape[]; height: number } {
  const MAX_HEIGHT = Math.max(320, Math.min(620, width * 0.7))
  const outlined = grids.filter((g) => g.outline)
  if (!outlined.length) return { shapes: [], height: 0 }
  const all = outlined.flatMap((g) => g.outline!.coordinates.flat())
  const raw = bounds(all)
  const geographic = raw.w < 5 && raw.h < 5 && Math.abs(raw.y) <= 90 && Math.abs(raw.x) <= 180
  const squeeze = geographic ? Math.cos(((raw.y + raw.h / 2) * Math.PI) / 180) : 1
  const plane = (p: number[]) => [p[0] * squeeze, -p[1]]
  const flat = bounds(all.map(plane))
  const scale = Math.min((width - 2 * PAD) / (flat.w || 1), (MAX_HEIGHT - 2 * PAD) / (flat.h || 1))
  const offsetX = (width - flat.w * scale) / 2
  const place = (p: number[]) => {
    const [x, y] = plane(p)
    return [offsetX + (x - flat.x) * scale, PAD + (y - flat.y) * scale]
  }
  const hasInside = new Set(outlined.map((g) => g.parent_id))
  const taken: [number, number][] = []
  const shapes = outlined.map((g) => {
    const rings = g.outline!.coordinates.map((ring) => ring.map(place))
    const centred = !hasInside.has(g.id)
    let labelX: number, labelY: number
    if (centred) {
      ;[labelX, labelY] = centroid(rings[0])
    } else {
      // A grid with grids drawn inside: its label at its top-left, below any label already there.
      const b = bounds(rings[0])
      labelX = b.x + 6
      labelY = b.y + 6
      while (taken.some(([x, y]) => Math.abs(x - labelX) < 120 && Math.abs(y - labelY) < BAND - 4)) labelY += BAND - 2
      taken.push([labelX, labelY])
    }
    return { id: g.id, d: pathOf(rings), labelX, labelY, centred, depth: g.depth }
  })
  return { shapes, height: flat.h * scale + 2 * PAD }
}

/** Grids without outlines: nested boxes, children side by side under their parent's label band. */
function schematic(grids: MapGrid[], top: number, frame: number): { shapes: Shape[]; height: number; width: number } {
  const missing = grids.filter((g) => !g.outline)
  if (!missing.length) return { shapes: [], height: 0, width: frame }
  const ids = new Set(missing.map((g) => g.id))
  const children = new Map<number, MapGrid[]>()
  for (const g of missing) {
    if (g.parent_id !== null && ids.has(g.parent_id)) children.set(g.parent_id, [...(children.get(g.parent_id) ?? []), g])
  }
  const roots = missing.filter((g) => g.parent_id === null || !ids.has(g.parent_id))
  const leaves = (g: MapGrid): number => {
    const kids = children.get(g.id) ?? []
    return kids.length ? kids.reduce((n, k) => n + leaves(k), 0) : 1
  }
  const height = (g: MapGrid): number => {
    const kids = children.get(g.id) ?? []
    return kids.length ? BAND + Math.max(...kids.map(height)) + 6 : LEAF_HEIGHT
  }
  const total = roots.reduce((n, g) => n + leaves(g), 0)
  const width = Math.max(frame, total * LEAF_MIN_WIDTH + 2 * PAD)
  const unit = (width - 2 * PAD) / total
  const shapes: Shape[] = []
  const place = (g: MapGrid, x: number, y: number, w: number, h: number) => {
    const kids = children.get(g.id) ?? []
    const r = (n: number) => n.toFixed(1)
    const d = `M${r(x)},${r(y)}H${r(x + w)}V${r(y + h)}H${r(x)}Z`
    if (!kids.length) {
      shapes.push({ id: g.id, d, labelX: x + w / 2, labelY: y + h / 2, centred: true, depth: g.depth })
      return
    }
    shapes.push({ id: g.id, d, labelX: x + 6, labelY: y + 4, centred: false, depth: g.depth })
    let cx = x + 6
    for (const kid of kids) {
      const kw = (leaves(kid) / leaves(g)) * (w - 12)
      place(kid, cx, y + BAND, kw - (kid === kids[kids.length - 1] ? 0 : 6), h - BAND - 6)
      cx += kw
    }
  }
  let x = PAD
  const rowHeight = Math.max(...roots.map(height))
  for (const g of roots) {
    const w = leaves(g) * unit
    place(g, x, top + PAD, w - 6, rowHeight)
    x += w
  }
  return { shapes, height: rowHeight + 2 * PAD, width }
}

/** `width`: the drawing's width in CSS pixels (the SVG is drawn 1:1, so its labels keep their size). */
export function layout(grids: MapGrid[], width = MAP_WIDTH): MapLayout {
  const outlined = projectOutlines(grids, width)
  const rest = schematic(grids, outlined.height, width)
  const shapes = [...outlined.shapes, ...rest.shapes].sort((a, b) => a.depth - b.depth)
  return { width: Math.max(width, rest.width), height: Math.max(120, outlined.height + rest.height), shapes }
}
