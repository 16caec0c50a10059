{{ dbt_utils.union_relations(relations=[ref('customers'), ref('order_keys')], include=['customer_id', 'amount']) }}
