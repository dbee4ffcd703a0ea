"""PostgreSQL only: `inventory_move_post(...)`, the posting of one plain
stock move in one statement (ADR 015). SQLite gets nothing.

The function handles the common case only — goods without lot or serial
tracking, valued at moving average, between existing balance rows, not
going negative — and returns no row for anything else, having written
nothing; `inventory.services.stock_move_post` then posts through the
general path, which raises the right error or handles the case. What it
computes mirrors `inventory.services._post` for one move; the test
`test_move_post_function.py` posts the same moves through both and compares
every value."""

from django.db import migrations

ROUND4 = """
CREATE OR REPLACE FUNCTION inventory_round4(x numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  -- Half-even to 4 decimals (Python's quantize(ROUND_HALF_EVEN));
  -- PostgreSQL's round() goes half away from zero.
  SELECT CASE
    WHEN abs(x * 10000 - trunc(x * 10000)) = 0.5 THEN
      (trunc(x * 10000)
       + CASE WHEN mod(trunc(x * 10000), 2) = 0 THEN 0 ELSE sign(x) END
      ) / 10000
    ELSE round(x, 4)
  END::numeric(20, 4)
$$;
"""

MOVE_POST = """
CREATE OR REPLACE FUNCTION inventory_move_post(
  p_product bigint, p_quantity numeric, p_source bigint, p_destination bigint,
  p_unit_cost numeric, p_origin_type text, p_origin_id bigint,
  p_origin_line_id bigint, p_reference text, p_done_at timestamptz,
  p_actor bigint, p_enabled_by_default boolean
) RETURNS TABLE (move_id bigint, move_unit_cost numeric, move_value numeric)
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  s record;
  sq_id bigint;
  sq_qty numeric;
  dq_id bigint;
  dq_qty numeric;
  sl_id bigint;
  sl_on_hand numeric;
  sl_value numeric;
  dl_id bigint;
  dl_on_hand numeric;
  dl_value numeric;
  src_stocked boolean;
  dst_stocked boolean;
  src_internal boolean;
  dst_internal boolean;
  same_wh boolean;
  v_value numeric;
  v_unit numeric;
BEGIN
  SELECT p.kind, p.tracking, p.costing_method, p.cost_price,
         sl.kind AS src_kind, sl.warehouse_id AS src_wh,
         dl.kind AS dst_kind, dl.warehouse_id AS dst_wh,
         (SELECT t.enabled FROM core_featuretoggle t
           WHERE t.code = 'inventory') AS enabled
    INTO s
    FROM catalog_product p, inventory_location sl, inventory_location dl
    WHERE p.id = p_product AND sl.id = p_source AND dl.id = p_destination;
  IF NOT FOUND OR s.kind <> 'goods' OR s.tracking <> 'none'
     OR s.costing_method <> 'average'
     OR NOT coalesce(s.enabled, p_enabled_by_default) THEN
    RETURN;
  END IF;
  src_stocked := s.src_kind IN ('internal', 'transit');
  dst_stocked := s.dst_kind IN ('internal', 'transit');
  src_internal := s.src_kind = 'internal';
  dst_internal := s.dst_kind = 'internal';
  IF p_source = p_destination OR s.src_kind = 'view' OR s.dst_kind = 'view'
     OR NOT (src_stocked OR dst_stocked) THEN
    RETURN;
  END IF;
  same_wh := src_internal AND dst_internal AND s.src_wh = s.dst_wh;

  -- The locks of _post: quants, then levels, each in pk order.
  FOR r IN SELECT q.id, q.location_id, q.quantity FROM inventory_quant q
      WHERE q.product_id = p_product AND q.lot_id IS NULL
        AND ((src_stocked AND q.location_id = p_source)
             OR (dst_stocked AND q.location_id = p_destination))
      ORDER BY q.id FOR UPDATE
  LOOP
    IF r.location_id = p_source THEN
      sq_id := r.id; sq_qty := r.quantity;
    ELSE
      dq_id := r.id; dq_qty := r.quantity;
    END IF;
  END LOOP;
  FOR r IN SELECT l.id, l.warehouse_id, l.on_hand, l.value
      FROM inventory_stocklevel l
      WHERE l.product_id = p_product
        AND ((src_internal AND l.warehouse_id = s.src_wh)
             OR (dst_internal AND l.warehouse_id = s.dst_wh))
      ORDER BY l.id FOR UPDATE
  LOOP
    IF src_internal AND r.warehouse_id = s.src_wh THEN
      sl_id := r.id; sl_on_hand := r.on_hand; sl_value := r.value;
    END IF;
    IF dst_internal AND r.warehouse_id = s.dst_wh THEN
      dl_id := r.id; dl_on_hand := r.on_hand; dl_value := r.value;
    END IF;
  END LOOP;
  -- A missing row, or stock going negative: the general path decides.
  IF (src_stocked AND (sq_id IS NULL OR sq_qty < p_quantity))
     OR (dst_stocked AND dq_id IS NULL)
     OR (src_internal AND sl_id IS NULL)
     OR (dst_internal AND dl_id IS NULL) THEN
    RETURN;
  END IF;

  -- Valuation (_issue_value, moving average): what leaves a warehouse
  -- takes its value from there; what comes from outside at its unit cost.
  IF src_internal THEN
    IF sl_on_hand > 0 AND p_quantity = sl_on_hand THEN
      v_value := sl_value;
    ELSIF sl_on_hand > 0 THEN
      v_value := inventory_round4(
        sl_value * p_quantity / sl_on_hand::numeric(48, 28));
    ELSE
      v_value := inventory_round4(p_quantity * s.cost_price);
    END IF;
    v_unit := inventory_round4(v_value / p_quantity::numeric(48, 28));
  ELSE
    v_unit := coalesce(p_unit_cost, s.cost_price);
    v_value := inventory_round4(v_unit * p_quantity);
  END IF;

  IF src_stocked THEN
    UPDATE inventory_quant SET quantity = sq_qty - p_quantity
      WHERE id = sq_id;
  END IF;
  IF dst_stocked THEN
    UPDATE inventory_quant SET quantity = dq_qty + p_quantity
      WHERE id = dq_id;
  END IF;
  IF NOT same_wh THEN
    IF src_internal THEN
      UPDATE inventory_stocklevel
        SET on_hand = sl_on_hand - p_quantity,
            value = sl_value - v_value
        WHERE id = sl_id;
    END IF;
    IF dst_internal THEN
      UPDATE inventory_stocklevel
        SET on_hand = dl_on_hand + p_quantity,
            value = dl_value + v_value
        WHERE id = dl_id;
    END IF;
  END IF;
  INSERT INTO inventory_stockmove (product_id, quantity, source_id,
      destination_id, lot_id, state, unit_cost, value, origin_type, origin_id,
      origin_line_id, transfer_id, transfer_line_id, reference, done_at,
      created_by_id)
    VALUES (p_product, p_quantity, p_source, p_destination, NULL, 'done',
      v_unit, v_value, p_origin_type, p_origin_id, p_origin_line_id, NULL,
      NULL, p_reference, p_done_at, p_actor)
    RETURNING id INTO move_id;
  move_unit_cost := v_unit;
  move_value := v_value;
  RETURN NEXT;
END;
$$;
"""

DROP = """
DROP FUNCTION IF EXISTS inventory_move_post(bigint, numeric, bigint, bigint,
  numeric, text, bigint, bigint, text, timestamptz, bigint, boolean);
DROP FUNCTION IF EXISTS inventory_round4(numeric);
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ROUND4)
        schema_editor.execute(MOVE_POST)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0002_transfer_kind_return"),
        ("catalog", "0002_costing"),
        ("core", "0001_initial"),
    ]

    operations = [migrations.RunPython(create, drop)]
