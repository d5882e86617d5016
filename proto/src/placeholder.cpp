namespace smppguard::proto {}
