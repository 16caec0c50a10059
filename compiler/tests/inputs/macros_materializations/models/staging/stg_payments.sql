{{ paid(ref('payments')) }}
