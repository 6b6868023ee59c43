"""coursekit.check: right answers pass, typical wrong ones get a specific hint."""


from coursekit import check


def conv(k, c_in, c_out):
    return (k * k * c_in + 1) * c_out


def linear(n_in, n_out):
    return (n_in + 1) * n_out


def test_lenet_parameters(capsys):
    fc = linear(400, 120) + linear(120, 84) + linear(84, 10)
    widened = conv(5, 1, 16) + conv(5, 16, 16) + fc
    original = conv(5, 1, 6) + conv(5, 6, 16) + fc
    assert check.lenet_parameters(widened) is True
    assert "✔" in capsys.readouterr().out
    assert check.lenet_parameters(original) is False
    assert "original LeNet" in capsys.readouterr().out
    forgot_second = conv(5, 1, 16) + conv(5, 6, 16) + fc
    assert check.lenet_parameters(forgot_second) is False
    assert "second convolution changes too" in capsys.readouterr().out
    assert check.lenet_parameters(None) is False
    assert "not answered yet" in capsys.readouterr().out
    assert check.lenet_parameters(1) is False
    assert "(k*k*c_in + 1)*c_out" in capsys.readouterr().out
