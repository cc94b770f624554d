import provision


def test_package_imports():
    assert provision.__name__ == "provision"
