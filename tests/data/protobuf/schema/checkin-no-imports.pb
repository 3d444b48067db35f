
Í
checkin.protocheckincommon.proto"1
Network
name (	Rname
imsi (	Rimsi"°
Device
imei (	Rimei*
network (2.checkin.NetworkRnetwork+
radio (2.checkin.Device.RadioRradio9
Radio
baseband (	Rbaseband
iccid (	Riccid"q
CheckinRequest
id (Rid'
device (2.checkin.DeviceRdevice&
locale (2.common.LocaleRlocale2D
Checkin9
Check.checkin.CheckinRequest.checkin.CheckinRequestbproto3