"""The POS search and the intake's product picker use the search engine: spelling variants, typos and
the member's business name find the product; stock is read for the lots shown; two products with the
same name are told apart by member, price and photo."""
from consignment.services import LineRequest, record_counter_sale


def test_pos_search_finds_a_spelling_variant_and_a_business_name_with_stock(client, login_as, make_member,
                                                                              make_product, make_lot):
    bakery = make_member(business_name="Dapur Mama Rina")
    product = make_product(bakery, name="Keripik Pisang Kepok 250 g")
    lot = make_lot(product, quantity=7)
    empty = make_lot(make_product(name="Keripik Pisang Manis"), quantity=1)
    kasir = login_as("kasir")
    record_counter_sale(kasir, [LineRequest(empty.id, 1)], "cash")
    by_variant = client.get("/gerai/kasir?cari=kripik+pisang").get_data(as_text=True)
    assert lot.code in by_variant and "stok 7" in by_variant
    assert empty.code not in by_variant  # no stock left: not offered
    by_business = client.get("/gerai/kasir?cari=mama+rina").get_data(as_text=True)
    assert lot.code in by_business


def test_pos_search_still_finds_a_draft_registered_at_intake(client, login_as, make_product, make_lot):
    draft = make_product(name="Bingka Kentang", status="draft")
    lot = make_lot(draft, quantity=3)
    login_as("kasir")
    assert lot.code in client.get("/gerai/kasir?cari=bingka").get_data(as_text=True)


def test_intake_picker_tells_two_products_of_the_same_name_apart(client, login_as, make_member, make_product):
    rina, sari = make_member(business_name="Dapur Rina"), make_member(business_name="Kue Sari")
    one = make_product(rina, name="Amplang Ikan", price=12000, photos=1)
    two = make_product(sari, name="Amplang Ikan", price=15000)
    login_as("kasir")
    fragment = client.get("/gerai/terima/produk?q=amplang").get_data(as_text=True)
    assert "Dapur Rina" in fragment and "Kue Sari" in fragment
    assert "Rp12.000" in fragment and "Rp15.000" in fragment
    assert f'data-product-id="{one.id}"' in fragment and f'data-product-id="{two.id}"' in fragment
    assert "<img" in fragment and "<html" not in fragment
    # Without JavaScript: the search form and the "Choose" link pick it with page loads.
    page = client.get("/gerai/terima?cari=amplang").get_data(as_text=True)
    assert f"produk={two.id}" in page
    chosen = client.get(f"/gerai/terima?produk={two.id}").get_data(as_text=True)
    assert f'name="product_id" type="hidden" value="{two.id}"' in chosen and "Kue Sari" in chosen
    assert "<script>" not in chosen and "intake_picker.js" in chosen


def test_intake_page_does_not_list_the_whole_catalog(client, login_as, make_product):
    products = [make_product(name=f"Produk Rahasia {i}") for i in range(3)]
    login_as("kasir")
    page = client.get("/gerai/terima").get_data(as_text=True)
    assert not any(p.name in page for p in products)


def test_the_pos_search_shows_lots_and_orders_from_rows_without_building_lot_product_member_or_order_objects(
        app, client, login_as, make_member, make_product, make_lot):
    """The counter's busiest page (a search per customer) reads the lots it offers and the orders waiting at the
    gerai as rows: building ORM objects for up to a hundred lots, their products and members, and forty orders
    took a third of its time at cooperative scale."""
    from sqlalchemy import event

    from catalog.models import Product
    from consignment.models import ConsignmentLot
    from marketplace.models import Member
    from orders import services as orders
    from orders.models import Order

    lot = make_lot(make_product(make_member(business_name="Dapur Mama Rina"), name="Keripik Pisang Kepok"), quantity=7)
    order = orders.place_order({lot.product_id: 2}, orders.Customer(name="Ani", phone="081234567890"), "gerai")
    login_as("kasir")
    built = []
    listeners = [(cls, lambda target, context: built.append(type(target).__name__))
                 for cls in (ConsignmentLot, Product, Member, Order)]
    for cls, listener in listeners:
        event.listen(cls, "load", listener)
    try:
        page = client.get("/gerai/kasir?cari=keripik").get_data(as_text=True)
        fragment = client.get("/gerai/kasir/cari?q=mama+rina").get_data(as_text=True)
    finally:
        for cls, listener in listeners:
            event.remove(cls, "load", listener)
    assert built == []
    for html in (page, fragment):
        assert "Keripik Pisang Kepok" in html and "Dapur Mama Rina" in html and lot.code in html
        assert "stok 5" in html  # 7 received, 2 held for the order
    assert order.number in page and "Ani" in page and "Rp" in page
