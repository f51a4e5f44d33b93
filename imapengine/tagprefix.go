package imapengine

// int2APDigits are imaplib's Int2AP digits: 'A' stands for 0, 'P' for 15.
const int2APDigits = "ABCDEFGHIJKLMNOP"

// Int2AP is imaplib.Int2AP: it writes abs(num) in base 16 using the digits
// "ABCDEFGHIJKLMNOP" (A=0 … P=15), most significant digit first. Zero gives
// the empty string. imaplib uses it to build the four-letter tag prefix from
// a number in [4096, 65535].
//
// Python's Int2AP also accepts floats and truncates them (3.9 gives "D");
// in Go the caller converts first: Int2AP(int64(3.9)).
func Int2AP(num int64) string {
	u := uint64(num)
	if num < 0 {
		u = -u // two's complement: correct even for math.MinInt64
	}
	var buf [16]byte // 64 bits / 4 bits per digit
	i := len(buf)
	for u > 0 {
		i--
		buf[i] = int2APDigits[u&0xF]
		u >>= 4
	}
	return string(buf[i:])
}
