"""The benchmark data follows the ledger's rules, so the page table measures a cooperative that could exist."""
from sqlalchemy import create_engine, text

from bench import generate


def test_generated_data_keeps_the_ledger_rules_and_leaves_a_draft_settlement_open(tmp_path, monkeypatch):
    monkeypatch.setattr(generate, "DATA", tmp_path)
    size = generate.SIZES["tiny"]
    directory = generate.build("tiny")
    engine = create_engine(generate.database_url_for(directory))
    with engine.connect() as conn:
        def one(sql):
            return conn.scalar(text(sql))

        assert one("SELECT count(*) FROM sale_lines") == size.lines
        assert one("SELECT count(*) FROM consignment_lots") == size.lots
        # No lot below zero; every lot has its intake; every sale line its movement.
        assert one("SELECT min(s) FROM (SELECT sum(quantity) s FROM stock_movements GROUP BY lot_id)") >= 0
        assert one("SELECT count(DISTINCT lot_id) FROM stock_movements WHERE kind = 'intake'") == size.lots
        assert one("SELECT count(*) FROM sale_lines l LEFT JOIN stock_movements m ON m.sale_line_id = l.id "
                   "WHERE m.id IS NULL") == 0
        # Every online sale came from a completed order with the same lines; some orders are still open.
        assert one("SELECT count(*) FROM sales s LEFT JOIN orders o ON o.sale_id = s.id "
                   "WHERE s.channel = 'online' AND (o.id IS NULL OR o.status <> 'completed')") == 0
        assert one("SELECT count(*) FROM orders WHERE status IN ('pending', 'paid', 'ready')") > 0
        assert one("SELECT count(*) FROM settlement_periods WHERE status = 'closed'") == 1
        assert one("SELECT count(*) FROM settlement_periods WHERE status = 'draft'") == 1
    engine.dispose()
    # Cached: a second build with the same signature does not generate again.
    marker = (directory / "signature.txt").stat().st_mtime_ns
    assert generate.build("tiny") == directory
    assert (directory / "signature.txt").stat().st_mtime_ns == marker
